-- Back to one vector per passage in kb_chunks: each account's active model is kept.
BEGIN;

ALTER TABLE kb_chunks ADD COLUMN embedding vector, ADD COLUMN embedding_model text, ADD COLUMN embedding_dim integer,
  ADD CHECK (embedding IS NULL OR vector_dims(embedding) = embedding_dim);
UPDATE kb_chunks c SET embedding = e.embedding, embedding_model = e.model, embedding_dim = e.dim
  FROM kb_embeddings e JOIN kb_index i ON i.account_id = e.account_id AND i.model = e.model
  WHERE e.chunk_id = c.id;
CREATE INDEX kb_chunks_embedding_512_idx ON kb_chunks USING hnsw ((embedding::vector(512)) vector_cosine_ops) WHERE embedding_dim = 512;
CREATE INDEX kb_chunks_account_model_idx ON kb_chunks (account_id, embedding_dim, embedding_model) WHERE published;
DROP INDEX IF EXISTS kb_chunks_account_idx;
-- Per-account HNSW indexes are on kb_embeddings and go with it.
DROP TABLE kb_embeddings;
DROP TABLE kb_index;

COMMIT;
