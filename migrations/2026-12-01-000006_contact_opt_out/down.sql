ALTER TABLE contact DROP COLUMN opted_out_at;
