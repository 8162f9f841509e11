//! The diesel schema of the table contract (`migrations/`).

#![expect(missing_docs, reason = "diesel::table! generates the items")]

diesel::table! {
    contact (id) {
        id -> Int8,
        wa_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        profile_name -> Nullable<Text>,
        profile_name_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        opted_out_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    conversation (id) {
        id -> Int8,
        contact_id -> Int8,
        phone_number_id -> Text,
        display_phone_number -> Nullable<Text>,
        known_fields -> Jsonb,
        engine_state -> Jsonb,
        last_inbound_at -> Nullable<Timestamptz>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        held_by -> Nullable<Int8>,
        held_since -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    lead (id) {
        id -> Int8,
        conversation_id -> Int8,
        service -> Nullable<Text>,
        name -> Nullable<Text>,
        nationality -> Nullable<Text>,
        email -> Nullable<Text>,
        best_time_to_call -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    inbound_message (id) {
        id -> Int8,
        conversation_id -> Int8,
        provider_message_id -> Text,
        message_type -> Text,
        text_body -> Nullable<Text>,
        raw -> Jsonb,
        provider_timestamp -> Nullable<Timestamptz>,
        request_id -> Nullable<Text>,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    outbound_job (id) {
        id -> Int8,
        conversation_id -> Int8,
        inbound_message_id -> Int8,
        inbound_provider_message_id -> Text,
        status -> Text,
        run_at -> Timestamptz,
        attempts -> Int4,
        max_attempts -> Int4,
        error -> Nullable<Text>,
        request_id -> Nullable<Text>,
        traceparent -> Nullable<Text>,
        claim_token -> Nullable<Uuid>,
        lease_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        completed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outbound_message_log (id) {
        id -> Int8,
        conversation_id -> Int8,
        outbound_job_id -> Nullable<Int8>,
        dedupe_key -> Text,
        question_key -> Nullable<Text>,
        body -> Text,
        reply_to_provider_message_id -> Nullable<Text>,
        status -> Text,
        provider_message_id -> Nullable<Text>,
        attempts -> Int4,
        max_attempts -> Int4,
        run_at -> Timestamptz,
        claim_token -> Nullable<Uuid>,
        lease_until -> Nullable<Timestamptz>,
        error_code -> Nullable<Int4>,
        error_text -> Nullable<Text>,
        request_id -> Nullable<Text>,
        traceparent -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sending_at -> Nullable<Timestamptz>,
        sent_at -> Nullable<Timestamptz>,
        delivered_at -> Nullable<Timestamptz>,
        read_at -> Nullable<Timestamptz>,
        failed_at -> Nullable<Timestamptz>,
        uncertain_at -> Nullable<Timestamptz>,
        uncertain_resends -> Int4,
        author_staff_id -> Nullable<Int8>,
        template -> Nullable<Jsonb>,
    }
}

diesel::table! {
    sender_throttle (phone_number_id) {
        phone_number_id -> Text,
        paused_until -> Timestamptz,
        reason -> Text,
        error_code -> Nullable<Int4>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    conversation_presence (conversation_id) {
        conversation_id -> Int8,
        inbound_message_id -> Int8,
        provider_message_id -> Text,
        message_at -> Timestamptz,
        stored_at -> Timestamptz,
        request_id -> Nullable<Text>,
        traceparent -> Nullable<Text>,
        requested_message_id -> Nullable<Int8>,
        requested_at -> Nullable<Timestamptz>,
        claim_token -> Nullable<Uuid>,
        lease_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    message_status_event (id) {
        id -> Int8,
        provider_message_id -> Text,
        status -> Text,
        provider_timestamp -> Nullable<Timestamptz>,
        recipient_id -> Nullable<Text>,
        biz_opaque_callback_data -> Nullable<Text>,
        error_code -> Nullable<Int4>,
        error_text -> Nullable<Text>,
        raw -> Jsonb,
        request_id -> Nullable<Text>,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    notification (id) {
        id -> Int8,
        kind -> Text,
        conversation_id -> Nullable<Int8>,
        dedupe_key -> Nullable<Text>,
        title -> Text,
        body -> Text,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
        snoozed_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    quarantine (id) {
        id -> Int8,
        fingerprint -> Text,
        request_id -> Text,
        item_kind -> Text,
        phone_number_id -> Nullable<Text>,
        display_phone_number -> Nullable<Text>,
        contacts -> Nullable<Text>,
        raw -> Text,
        reason -> Text,
        sqlstate -> Nullable<Text>,
        created_at -> Timestamptz,
        redriven_at -> Nullable<Timestamptz>,
        redrive_attempts -> Int4,
        last_redrive_error -> Nullable<Text>,
    }
}

diesel::table! {
    staff_user (id) {
        id -> Int8,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        disabled_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    staff_session (token_hash) {
        token_hash -> Text,
        staff_user_id -> Int8,
        csrf_token -> Text,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    staff_login_attempt (id) {
        id -> Int8,
        email -> Text,
        address -> Text,
        succeeded -> Bool,
        attempted_at -> Timestamptz,
    }
}

diesel::table! {
    staff_audit (id) {
        id -> Int8,
        staff_user_id -> Nullable<Int8>,
        action -> Text,
        conversation_id -> Nullable<Int8>,
        detail -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    conversation_note (id) {
        id -> Int8,
        conversation_id -> Int8,
        staff_user_id -> Nullable<Int8>,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    staff_conversation_read (staff_user_id, conversation_id) {
        staff_user_id -> Int8,
        conversation_id -> Int8,
        read_at -> Timestamptz,
    }
}

diesel::joinable!(conversation -> contact (contact_id));
diesel::joinable!(lead -> conversation (conversation_id));
diesel::joinable!(inbound_message -> conversation (conversation_id));
diesel::joinable!(outbound_job -> conversation (conversation_id));
diesel::joinable!(outbound_job -> inbound_message (inbound_message_id));
diesel::joinable!(outbound_message_log -> conversation (conversation_id));
diesel::joinable!(outbound_message_log -> outbound_job (outbound_job_id));
diesel::joinable!(notification -> conversation (conversation_id));
diesel::joinable!(conversation_presence -> conversation (conversation_id));
diesel::joinable!(staff_session -> staff_user (staff_user_id));
diesel::joinable!(staff_audit -> staff_user (staff_user_id));
diesel::joinable!(conversation_note -> staff_user (staff_user_id));
diesel::joinable!(conversation_note -> conversation (conversation_id));

diesel::allow_tables_to_appear_in_same_query!(
    contact,
    conversation,
    lead,
    inbound_message,
    outbound_job,
    outbound_message_log,
    message_status_event,
    notification,
    quarantine,
    sender_throttle,
    conversation_presence,
    staff_user,
    staff_session,
    staff_login_attempt,
    staff_audit,
    conversation_note,
    staff_conversation_read,
);
