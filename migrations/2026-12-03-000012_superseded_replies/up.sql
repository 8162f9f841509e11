-- A bot reply still queued when a newer turn of its conversation is decided is `superseded`:
-- never sent, because the newer reply answers everything (invariant 10).
--
-- The new CHECK is added NOT VALID and validated separately: validation reads the table
-- under a lock that does not block writes, so a large log keeps taking replies.
ALTER TABLE outbound_message_log DROP CONSTRAINT outbound_message_log_status_check;
ALTER TABLE outbound_message_log ADD CONSTRAINT outbound_message_log_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'uncertain', 'superseded'))
    NOT VALID;
ALTER TABLE outbound_message_log VALIDATE CONSTRAINT outbound_message_log_status_check;

-- A superseded reply was never sent: no delivery status moves it.
CREATE OR REPLACE FUNCTION outbound_status_may_move(current TEXT, incoming TEXT) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN current IN ('failed', 'superseded') THEN false
        WHEN incoming = 'failed' THEN outbound_status_rank(current) < 2
        ELSE COALESCE(outbound_status_rank(incoming) > outbound_status_rank(current), false)
    END
$$;
