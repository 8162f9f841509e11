DROP TABLE sender_throttle;
DROP INDEX outbound_message_log_due;
ALTER TABLE outbound_message_log DROP COLUMN uncertain_resends;
