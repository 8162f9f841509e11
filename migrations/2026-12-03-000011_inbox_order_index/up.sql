-- The staff inbox lists conversations by the customer's latest message, a page at a time
-- (keyset on this order). Built CONCURRENTLY; an interrupted build leaves an INVALID index:
-- drop it (`DROP INDEX CONCURRENTLY conversation_inbox_order`) and migrate again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversation_inbox_order
    ON conversation ((COALESCE(last_inbound_at, created_at)) DESC, id DESC)
