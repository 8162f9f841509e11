-- The staff console: accounts, sessions, login attempts, the audit trail, notes, read
-- markers, who holds a conversation, and who wrote a reply.

CREATE TABLE staff_user (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          TEXT NOT NULL CHECK (email = lower(email) AND email LIKE '_%@_%'),
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('agent', 'admin')),
    disabled_at    TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_user_email ON staff_user (email);

-- A session is known by the SHA-256 of its cookie: the table alone cannot log anyone in.
CREATE TABLE staff_session (
    token_hash     TEXT PRIMARY KEY,
    staff_user_id  BIGINT NOT NULL REFERENCES staff_user (id) ON DELETE CASCADE,
    csrf_token     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_session_user ON staff_session (staff_user_id);
CREATE INDEX staff_session_expires_at ON staff_session (expires_at);

-- Every login attempt, for the per-account and per-address limits.
CREATE TABLE staff_login_attempt (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL,
    address       TEXT NOT NULL,
    succeeded     BOOLEAN NOT NULL,
    attempted_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX staff_login_attempt_email ON staff_login_attempt (email, attempted_at);
CREATE INDEX staff_login_attempt_address ON staff_login_attempt (address, attempted_at);

-- Who did what, when.
CREATE TABLE staff_audit (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_user_id    BIGINT REFERENCES staff_user (id) ON DELETE SET NULL,
    action           TEXT NOT NULL,
    conversation_id  BIGINT REFERENCES conversation (id) ON DELETE SET NULL,
    detail           TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX staff_audit_created_at ON staff_audit (created_at);
CREATE INDEX staff_audit_conversation ON staff_audit (conversation_id, id) WHERE conversation_id IS NOT NULL;

-- Notes for colleagues; never sent to the customer.
CREATE TABLE conversation_note (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id  BIGINT NOT NULL REFERENCES conversation (id) ON DELETE CASCADE,
    staff_user_id    BIGINT REFERENCES staff_user (id) ON DELETE SET NULL,
    body             TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX conversation_note_conversation ON conversation_note (conversation_id, id);

-- How far each member of staff has read each conversation (unread counts).
CREATE TABLE staff_conversation_read (
    staff_user_id    BIGINT NOT NULL REFERENCES staff_user (id) ON DELETE CASCADE,
    conversation_id  BIGINT NOT NULL REFERENCES conversation (id) ON DELETE CASCADE,
    read_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (staff_user_id, conversation_id)
);

-- While `held_by` is set the bot is silent in the conversation: staff answer.
ALTER TABLE conversation
    ADD COLUMN held_by BIGINT REFERENCES staff_user (id) ON DELETE SET NULL,
    ADD COLUMN held_since TIMESTAMPTZ;

-- A staff reply names its author; a template send carries the template to send.
ALTER TABLE outbound_message_log
    ADD COLUMN author_staff_id BIGINT REFERENCES staff_user (id) ON DELETE SET NULL,
    ADD COLUMN template JSONB;
