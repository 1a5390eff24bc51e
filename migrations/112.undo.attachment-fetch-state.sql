BEGIN;
ALTER TABLE attachments DROP COLUMN IF EXISTS fetch_attempts;
ALTER TABLE attachments DROP COLUMN IF EXISTS fetch_error;
ALTER TABLE attachments DROP COLUMN IF EXISTS fetch_state;
COMMIT;
