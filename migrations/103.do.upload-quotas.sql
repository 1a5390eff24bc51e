-- Web chat upload quotas (hub/services/upload-quota.ts) sum the bytes uploaded recently per visitor, per
-- channel and per client address. The address is kept only as a keyed hash of its network (IPv6 /64).
BEGIN;
ALTER TABLE uploads ADD COLUMN uploader_address text;
CREATE INDEX uploads_channel_recent_idx ON uploads (channel_id, created_at);
CREATE INDEX uploads_address_recent_idx ON uploads (uploader_address, created_at) WHERE uploader_address IS NOT NULL;
COMMIT;
