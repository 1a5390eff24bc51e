BEGIN;
DROP INDEX conversations_status_waiting_idx;
DROP TRIGGER messages_track_waiting ON messages;
DROP FUNCTION hd_track_waiting();
DROP FUNCTION hd_waiting_since(uuid);
ALTER TABLE conversations DROP COLUMN waiting_since;
COMMIT;
