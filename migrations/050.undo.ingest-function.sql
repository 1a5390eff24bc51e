BEGIN;
DROP FUNCTION IF EXISTS hd_ingest_messages(uuid, uuid, uuid, jsonb);
COMMIT;
