UPDATE outbound_message_log SET status = 'failed', error_text = 'superseded' WHERE status = 'superseded';
CREATE OR REPLACE FUNCTION outbound_status_may_move(current TEXT, incoming TEXT) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN current = 'failed' THEN false
        WHEN incoming = 'failed' THEN outbound_status_rank(current) < 2
        ELSE COALESCE(outbound_status_rank(incoming) > outbound_status_rank(current), false)
    END
$$;
ALTER TABLE outbound_message_log DROP CONSTRAINT outbound_message_log_status_check;
ALTER TABLE outbound_message_log ADD CONSTRAINT outbound_message_log_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'uncertain'));
