-- Items of a webhook delivery that could not be parsed or stored (invariant 12), kept raw
-- with the reason so an operator can redrive them once the cause is fixed
-- (`webhook-ingest quarantine list` / `redrive --id N`).
CREATE TABLE quarantine (
    id                   BIGSERIAL PRIMARY KEY,
    -- sha256 of the kind and the raw item: a redelivered item is kept once
    fingerprint          TEXT NOT NULL UNIQUE,
    request_id           TEXT NOT NULL,
    -- 'message', 'status', or 'change' (a whole `messages` change value that does not parse)
    item_kind            TEXT NOT NULL CHECK (item_kind IN ('message', 'status', 'change')),
    -- the change's business number and profiles, as received, to rebuild the delivery
    phone_number_id      TEXT,
    display_phone_number TEXT,
    contacts             TEXT,
    -- the item's JSON as received, byte for byte but for the escapes jsonb refuses (NUL, half a
    -- surrogate pair), replaced as in every stored message; text, not jsonb: jsonb may be what refused it
    raw                  TEXT NOT NULL,
    reason               TEXT NOT NULL,
    -- the Postgres SQLSTATE when storing failed
    sqlstate             TEXT,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    redriven_at          TIMESTAMPTZ,
    redrive_attempts     INTEGER NOT NULL DEFAULT 0,
    last_redrive_error   TEXT
);
CREATE INDEX quarantine_pending ON quarantine (created_at) WHERE redriven_at IS NULL;

-- NULL when `raw` is storable as jsonb, else its SQLSTATE and message (the reason an item
-- failed is usually here: nesting deeper than jsonb allows, a number outside numeric).
CREATE FUNCTION jsonb_refusal(raw TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
BEGIN
    PERFORM raw::jsonb;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
