ALTER TABLE conversation DROP COLUMN last_bot_reply_id, DROP COLUMN bot_replies;
