BEGIN;
DROP INDEX IF EXISTS uploads_address_recent_idx;
DROP INDEX IF EXISTS uploads_channel_recent_idx;
ALTER TABLE uploads DROP COLUMN IF EXISTS uploader_address;
COMMIT;
