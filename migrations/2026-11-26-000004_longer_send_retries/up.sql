-- A reply's transient send errors (5xx, 131000, ...) are retried with capped exponential
-- backoff. Five attempts spanned about 15 seconds with the default 1 s base, so a Graph API
-- hiccup of a minute failed customer replies; ten attempts span about eight and a half
-- minutes before staff are notified.
ALTER TABLE outbound_message_log ALTER COLUMN max_attempts SET DEFAULT 10;
