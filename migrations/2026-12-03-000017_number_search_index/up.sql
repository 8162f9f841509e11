-- Inbox search by any part of the customer's number. Built CONCURRENTLY; an interrupted build
-- leaves an INVALID index: drop it (`DROP INDEX CONCURRENTLY contact_number_search`) and migrate again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS contact_number_search
    ON contact USING gin (wa_id gin_trgm_ops)
