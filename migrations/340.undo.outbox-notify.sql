BEGIN;
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION hd_outbox_notify();
COMMIT;
