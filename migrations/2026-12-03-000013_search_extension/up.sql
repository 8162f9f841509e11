-- Trigram indexes let the staff inbox find a customer by any part of a name or number
-- (`ILIKE '%…%'`) without reading every conversation. pg_trgm ships with PostgreSQL's
-- contrib modules and is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
