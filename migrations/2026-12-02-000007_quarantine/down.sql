DROP FUNCTION jsonb_refusal(TEXT);
DROP TABLE quarantine;
