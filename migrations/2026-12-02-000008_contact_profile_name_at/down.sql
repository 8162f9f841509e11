ALTER TABLE contact DROP COLUMN profile_name_at;
