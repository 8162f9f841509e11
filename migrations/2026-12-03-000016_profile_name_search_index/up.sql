-- Inbox search by WhatsApp profile name. Built CONCURRENTLY; an interrupted build leaves an
-- INVALID index: drop it (`DROP INDEX CONCURRENTLY contact_profile_name_search`) and migrate again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS contact_profile_name_search
    ON contact USING gin (profile_name gin_trgm_ops)
