BEGIN;
DROP INDEX IF EXISTS drafts_account_created_idx;
COMMIT;
