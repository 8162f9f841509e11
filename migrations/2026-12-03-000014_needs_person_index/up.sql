-- The inbox's "needs a person" list and its count (handed off by the bot, or held by staff)
-- read only those conversations. Built CONCURRENTLY; an interrupted build leaves an INVALID
-- index: drop it (`DROP INDEX CONCURRENTLY conversation_needs_person`) and migrate again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversation_needs_person
    ON conversation ((COALESCE(last_inbound_at, created_at)) DESC, id DESC)
    WHERE held_by IS NOT NULL OR (engine_state ->> 'stage') = 'handed_off'
