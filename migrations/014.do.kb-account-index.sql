-- Exact vector search for an account with few passages reads only its own rows (ai/kb/search.ts):
-- HNSW is shared by all tenants, and row-level security filters after its scan.
BEGIN;
CREATE INDEX kb_chunks_account_model_idx ON kb_chunks (account_id, embedding_dim, embedding_model) WHERE published;
COMMIT;
