BEGIN;
DROP TABLE IF EXISTS slack_pending_roots;
COMMIT;
