-- Presence: the read receipt and the typing indicator a customer sees while the bot waits
-- for the turn's quiet period. One row per conversation: webhook-ingest records the
-- conversation's newest inbound message in the statement that stores it; outbound-sender
-- claims the rows whose newest message has had no request yet, with at most one request in
-- flight and one a second per conversation, and never twice for one message.
CREATE TABLE conversation_presence (
    conversation_id       BIGINT PRIMARY KEY REFERENCES conversation (id),
    -- the conversation's newest inbound message, by when the customer sent it, then id
    -- (`inbound_message.id`; inbound messages are never deleted)
    inbound_message_id    BIGINT NOT NULL,
    provider_message_id   TEXT NOT NULL,
    -- when the customer sent it (a clock more than a day ahead counts as its arrival), for
    -- the 24-hour window
    message_at            TIMESTAMPTZ NOT NULL,
    -- when it was stored, and the delivery that carried it
    stored_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    request_id            TEXT,
    traceparent           TEXT,
    -- the message of the last request (made or skipped): presence is due while it is not
    -- the newest one
    requested_message_id  BIGINT,
    -- when the last request was made: the next waits a second
    requested_at          TIMESTAMPTZ,
    -- the request in flight
    claim_token           UUID,
    lease_until           TIMESTAMPTZ
);

-- The conversations whose presence is due, oldest first (a small index: a row leaves it
-- once its request is made).
CREATE INDEX conversation_presence_due ON conversation_presence (stored_at)
    WHERE requested_message_id IS DISTINCT FROM inbound_message_id;
