BEGIN;
DROP TABLE IF EXISTS pending_delivery_statuses;
COMMIT;
