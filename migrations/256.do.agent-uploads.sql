-- Agents upload files for a reply (POST /api/v1/conversations/:id/uploads) into the same table as
-- web chat visitors; their bytes do not count against the channel's visitor quota.
BEGIN;
ALTER TABLE uploads ADD COLUMN by_agent boolean NOT NULL DEFAULT false;
COMMIT;
