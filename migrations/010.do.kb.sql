-- Knowledge base: articles (markdown, per language) and their embedded chunks for hybrid search.
BEGIN;

CREATE TABLE kb_articles (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  title text NOT NULL,
  body text NOT NULL,
  language text NOT NULL DEFAULT 'en',
  tags text[] NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'draft')),
  url text,
  -- An import's own id for the article, so re-importing updates instead of duplicating.
  external_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX kb_articles_external_key ON kb_articles (account_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX kb_articles_list_idx ON kb_articles (account_id, updated_at DESC, id DESC);

CREATE TABLE kb_chunks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  article_id uuid NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  heading text,
  text text NOT NULL,
  language text NOT NULL,
  published boolean NOT NULL DEFAULT true,
  -- Untyped so models of different sizes can coexist while a reindex runs; each row says which it is.
  embedding vector,
  embedding_model text,
  embedding_dim integer,
  search tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(heading, '') || ' ' || text)) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (embedding IS NULL OR vector_dims(embedding) = embedding_dim)
);
CREATE INDEX kb_chunks_article_idx ON kb_chunks (article_id, ordinal);
CREATE INDEX kb_chunks_search_idx ON kb_chunks USING gin (search);
-- One HNSW index per embedding size; the local model is 512-d (add another partial index for another size).
CREATE INDEX kb_chunks_embedding_512_idx ON kb_chunks USING hnsw ((embedding::vector(512)) vector_cosine_ops) WHERE embedding_dim = 512;

ALTER TABLE kb_articles ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kb_articles USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
ALTER TABLE kb_chunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kb_chunks USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());

COMMIT;
