-- A conversation's transcript reads its replies by conversation, newest first. Built
-- CONCURRENTLY so a large log keeps taking replies; an interrupted build leaves an INVALID
-- index: drop it (`DROP INDEX CONCURRENTLY outbound_message_log_conversation`) and migrate
-- again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbound_message_log_conversation
    ON outbound_message_log (conversation_id, id)
