-- Inbox search by the name the customer gave. Built CONCURRENTLY; an interrupted build leaves
-- an INVALID index: drop it (`DROP INDEX CONCURRENTLY conversation_name_search`) and migrate again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversation_name_search
    ON conversation USING gin ((known_fields ->> 'name') gin_trgm_ops)
