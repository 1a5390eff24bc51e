BEGIN;
DROP TRIGGER outbox_number_surface_sync ON outbox;
DROP FUNCTION hd_number_surface_sync();
ALTER TABLE surface_syncs DROP COLUMN synced_seq;
DROP TABLE surface_sync_requests;
COMMIT;
