BEGIN;
DROP FUNCTION hd_ingest_channels_as(uuid, jsonb);
COMMIT;
