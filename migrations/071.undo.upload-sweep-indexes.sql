BEGIN;
DROP INDEX IF EXISTS attachments_blob_key_idx;
DROP INDEX IF EXISTS uploads_blob_key_idx;
DROP INDEX IF EXISTS uploads_unclaimed_idx;
COMMIT;
