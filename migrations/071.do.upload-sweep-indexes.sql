-- The upload sweep (hub/services/upload-sweep.ts) finds expired unclaimed uploads and asks whether any
-- row still names a blob: without these it would scan both tables once per batch.
BEGIN;
CREATE INDEX uploads_unclaimed_idx ON uploads (created_at) WHERE message_id IS NULL;
CREATE INDEX uploads_blob_key_idx ON uploads (blob_key);
CREATE INDEX attachments_blob_key_idx ON attachments (blob_key) WHERE blob_key IS NOT NULL;
COMMIT;
