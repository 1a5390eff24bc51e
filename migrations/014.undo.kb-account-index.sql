BEGIN;
DROP INDEX IF EXISTS kb_chunks_account_model_idx;
COMMIT;
