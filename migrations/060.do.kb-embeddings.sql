-- Knowledge-base vectors in their own table, several models per passage: a reindex builds the new
-- model's set beside the old one, search reads the account's active model (kb_index) until the new set
-- is complete, then the account switches in one transaction and the old vectors go (ai/kb/reindex.ts).
BEGIN;

CREATE TABLE kb_embeddings (
  chunk_id uuid NOT NULL REFERENCES kb_chunks(id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  model text NOT NULL,
  dim integer NOT NULL CHECK (dim > 0),
  -- Copies of the passage's fields, so vector search filters without a join.
  published boolean NOT NULL,
  language text NOT NULL,
  -- Untyped: models of different sizes coexist; an account above the exact-search limit gets its own
  -- partial HNSW index over its active model (ai/kb/tenant-index.ts).
  embedding vector NOT NULL,
  PRIMARY KEY (chunk_id, model),
  CHECK (vector_dims(embedding) = dim)
);
CREATE INDEX kb_embeddings_account_idx ON kb_embeddings (account_id, model, published);
CREATE INDEX kb_chunks_account_idx ON kb_chunks (account_id, id);

-- One row per account: the model search uses, its own HNSW index once large, and the reindex progress.
CREATE TABLE kb_index (
  account_id uuid PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  model text,
  dim integer,
  hnsw_model text,
  hnsw_requested_at timestamptz,
  reindex_state text NOT NULL DEFAULT 'idle' CHECK (reindex_state IN ('idle', 'running', 'done', 'failed')),
  target_model text,
  target_dim integer,
  done integer NOT NULL DEFAULT 0,
  total integer NOT NULL DEFAULT 0,
  started_at timestamptz,
  finished_at timestamptz,
  error text,
  -- A worker holds the reindex until then; a crashed one's lease runs out and the job resumes.
  lease_until timestamptz
);

INSERT INTO kb_embeddings (chunk_id, account_id, model, dim, published, language, embedding)
  SELECT id, account_id, embedding_model, embedding_dim, published, language, embedding
  FROM kb_chunks WHERE embedding IS NOT NULL AND embedding_model IS NOT NULL;
INSERT INTO kb_index (account_id, model, dim)
  SELECT DISTINCT ON (account_id) account_id, model, dim FROM kb_embeddings
  GROUP BY account_id, model, dim ORDER BY account_id, count(*) DESC;

DROP INDEX IF EXISTS kb_chunks_embedding_512_idx;
DROP INDEX IF EXISTS kb_chunks_account_model_idx;
ALTER TABLE kb_chunks DROP COLUMN embedding, DROP COLUMN embedding_model, DROP COLUMN embedding_dim;

ALTER TABLE kb_embeddings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kb_embeddings USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
ALTER TABLE kb_index ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kb_index USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON kb_embeddings, kb_index TO hummdesk_app;

COMMIT;
