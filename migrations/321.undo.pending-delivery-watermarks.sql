BEGIN;
DROP TABLE IF EXISTS pending_delivery_watermarks;
COMMIT;
