ALTER TABLE outbound_message_log DROP COLUMN template, DROP COLUMN author_staff_id;
ALTER TABLE conversation DROP COLUMN held_since, DROP COLUMN held_by;
DROP TABLE staff_conversation_read;
DROP TABLE conversation_note;
DROP TABLE staff_audit;
DROP TABLE staff_login_attempt;
DROP TABLE staff_session;
DROP TABLE staff_user;
