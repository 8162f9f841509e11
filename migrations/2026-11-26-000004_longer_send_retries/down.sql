ALTER TABLE outbound_message_log ALTER COLUMN max_attempts SET DEFAULT 5;
