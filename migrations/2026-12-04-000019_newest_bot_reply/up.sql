-- Each conversation names its newest bot reply and counts its bot replies, so a newer turn
-- supersedes the previous reply (invariant 10) by its primary key instead of searching the
-- conversation's replies, whatever the planner believes of the table's size. Conversations
-- that existed before start counting at zero: their next reply is never superseded.
ALTER TABLE conversation
    ADD COLUMN last_bot_reply_id BIGINT,
    ADD COLUMN bot_replies INTEGER NOT NULL DEFAULT 0;
