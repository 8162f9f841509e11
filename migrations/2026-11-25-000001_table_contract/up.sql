-- The table contract of the pipeline (DESIGN.md section 3). Table and column names are an
-- interface: tests and operators query them directly.

-- A WhatsApp user. `wa_id` is the phone-based id Meta sends; `user_id` is the
-- business-scoped user id (BSUID) that Meta also sends, and the only id for users who hide
-- their phone number behind a username.
CREATE TABLE contact (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wa_id         TEXT UNIQUE,
    user_id       TEXT,
    profile_name  TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT contact_has_an_id CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL)
);
CREATE UNIQUE INDEX contact_user_id_without_wa_id ON contact (user_id) WHERE wa_id IS NULL;
CREATE INDEX contact_user_id ON contact (user_id) WHERE user_id IS NOT NULL;

-- One conversation per customer and business phone number.
CREATE TABLE conversation (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id            BIGINT NOT NULL REFERENCES contact (id),
    phone_number_id       TEXT NOT NULL,
    display_phone_number  TEXT,
    -- camelCase keys: service, name, nationality, email, bestTimeToCall, firstGreetingSentAt
    known_fields          JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- the engine's own bookkeeping (current question, unclear answers, handoff)
    engine_state          JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- start of the 24-hour customer-service window
    last_inbound_at       TIMESTAMPTZ,
    -- optimistic concurrency: every state write is `WHERE version = $seen`
    version               BIGINT NOT NULL DEFAULT 0,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT conversation_contact_number UNIQUE (contact_id, phone_number_id)
);

-- The qualified lead staff take over.
CREATE TABLE lead (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id    BIGINT NOT NULL UNIQUE REFERENCES conversation (id),
    service            TEXT,
    name               TEXT,
    nationality        TEXT,
    email              TEXT,
    best_time_to_call  TEXT,
    status             TEXT NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'qualified', 'handed_off', 'contacted', 'closed')),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every inbound message, kept as the audit trail.
CREATE TABLE inbound_message (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id      BIGINT NOT NULL REFERENCES conversation (id),
    provider_message_id  TEXT NOT NULL UNIQUE,
    message_type         TEXT NOT NULL,
    text_body            TEXT,
    raw                  JSONB NOT NULL,
    provider_timestamp   TIMESTAMPTZ,
    request_id           TEXT,
    received_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX inbound_message_conversation ON inbound_message (conversation_id, id);

-- One job per inbound message: run the conversation engine and write the reply.
CREATE TABLE outbound_job (
    id                           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id              BIGINT NOT NULL REFERENCES conversation (id),
    inbound_message_id           BIGINT NOT NULL REFERENCES inbound_message (id),
    inbound_provider_message_id  TEXT NOT NULL UNIQUE,
    status                       TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed')),
    run_at                       TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts                     INTEGER NOT NULL DEFAULT 0,
    max_attempts                 INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts > 0),
    error                        TEXT,
    request_id                   TEXT,
    traceparent                  TEXT,
    claim_token                  UUID,
    lease_until                  TIMESTAMPTZ,
    created_at                   TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at                   TIMESTAMPTZ,
    completed_at                 TIMESTAMPTZ
);
CREATE INDEX outbound_job_status_run_at ON outbound_job (status, run_at);
-- the head of each conversation's queue, for per-conversation ordering
CREATE INDEX outbound_job_open_per_conversation ON outbound_job (conversation_id, id)
    WHERE status IN ('queued', 'running');

-- Every reply, with its delivery state. `dedupe_key` makes a reply to one question unique.
CREATE TABLE outbound_message_log (
    id                            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id               BIGINT NOT NULL REFERENCES conversation (id),
    outbound_job_id               BIGINT REFERENCES outbound_job (id) ON DELETE SET NULL,
    dedupe_key                    TEXT NOT NULL UNIQUE,
    question_key                  TEXT,
    body                          TEXT NOT NULL,
    reply_to_provider_message_id  TEXT,
    status                        TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'uncertain')),
    provider_message_id           TEXT UNIQUE,
    attempts                      INTEGER NOT NULL DEFAULT 0,
    max_attempts                  INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    run_at                        TIMESTAMPTZ NOT NULL DEFAULT now(),
    claim_token                   UUID,
    lease_until                   TIMESTAMPTZ,
    error_code                    INTEGER,
    error_text                    TEXT,
    request_id                    TEXT,
    traceparent                   TEXT,
    created_at                    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                    TIMESTAMPTZ NOT NULL DEFAULT now(),
    sending_at                    TIMESTAMPTZ,
    sent_at                       TIMESTAMPTZ,
    delivered_at                  TIMESTAMPTZ,
    read_at                       TIMESTAMPTZ,
    failed_at                     TIMESTAMPTZ,
    uncertain_at                  TIMESTAMPTZ
);
CREATE INDEX outbound_message_log_status_run_at ON outbound_message_log (status, run_at);
CREATE INDEX outbound_message_log_open_per_conversation ON outbound_message_log (conversation_id, id)
    WHERE status IN ('queued', 'sending', 'uncertain');

-- Every delivery-status webhook received, once per (message, status).
CREATE TABLE message_status_event (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_message_id       TEXT NOT NULL,
    status                    TEXT NOT NULL,
    provider_timestamp        TIMESTAMPTZ,
    recipient_id              TEXT,
    biz_opaque_callback_data  TEXT,
    error_code                INTEGER,
    error_text                TEXT,
    raw                       JSONB NOT NULL,
    request_id                TEXT,
    received_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT message_status_event_once UNIQUE (provider_message_id, status)
);
CREATE INDEX message_status_event_received_at ON message_status_event (received_at);

-- Notifications for staff.
CREATE TABLE notification (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             TEXT NOT NULL,
    conversation_id  BIGINT REFERENCES conversation (id),
    -- makes a notification idempotent, e.g. 'job_failed:42'
    dedupe_key       TEXT UNIQUE,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at          TIMESTAMPTZ,
    snoozed_until    TIMESTAMPTZ
);
CREATE INDEX notification_unread ON notification (created_at) WHERE read_at IS NULL;

-- Delivery progress of an outbound message: a status only ever moves to a higher rank.
-- `failed` is terminal and ranks above everything except delivered and read, which prove
-- the message arrived (see outbound_status_may_move).
CREATE FUNCTION outbound_status_rank(status TEXT) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status
        WHEN 'queued' THEN 0
        WHEN 'sending' THEN 0
        WHEN 'uncertain' THEN 0
        WHEN 'sent' THEN 1
        WHEN 'delivered' THEN 2
        WHEN 'read' THEN 3
        WHEN 'played' THEN 3
        ELSE NULL
    END
$$;

-- Whether a delivery status webhook `incoming` may move a row currently in `current`.
CREATE FUNCTION outbound_status_may_move(current TEXT, incoming TEXT) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN current = 'failed' THEN false
        WHEN incoming = 'failed' THEN outbound_status_rank(current) < 2
        ELSE COALESCE(outbound_status_rank(incoming) > outbound_status_rank(current), false)
    END
$$;
