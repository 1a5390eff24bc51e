BEGIN;
DROP INDEX IF EXISTS conversations_resolved_idx;
COMMIT;
