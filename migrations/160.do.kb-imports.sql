-- Knowledge-base imports run as `kb.import` jobs (ai/kb/import.ts): the request stores the articles and
-- answers 202; the job writes them a slice at a time, its progress committed with each slice, so a
-- crashed run resumes after the last slice it wrote and `GET /api/v1/kb/imports/:id` shows how far it is.
BEGIN;

CREATE TABLE kb_imports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  -- The articles as the request gave them; emptied once the import has finished.
  articles jsonb NOT NULL,
  total integer NOT NULL CHECK (total >= 0),
  done integer NOT NULL DEFAULT 0,
  created integer NOT NULL DEFAULT 0,
  updated integer NOT NULL DEFAULT 0,
  chunks integer NOT NULL DEFAULT 0,
  error_code text,
  error text,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX kb_imports_account_idx ON kb_imports (account_id, created_at DESC);

ALTER TABLE kb_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kb_imports USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON kb_imports TO hummdesk_app;

COMMIT;
