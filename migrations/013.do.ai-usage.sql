-- Token usage of external model providers, per account and call, with prompt-cache reads and writes.
BEGIN;

CREATE TABLE ai_usage (
  id bigserial PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid REFERENCES conversations(id) ON DELETE SET NULL,
  provider text NOT NULL,
  model text NOT NULL,
  requests integer NOT NULL DEFAULT 1,
  input_tokens integer NOT NULL DEFAULT 0,
  output_tokens integer NOT NULL DEFAULT 0,
  cache_read_tokens integer NOT NULL DEFAULT 0,
  cache_write_tokens integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_usage_account_idx ON ai_usage (account_id, created_at);

ALTER TABLE ai_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ai_usage USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON ai_usage TO hummdesk_app;
GRANT USAGE, SELECT ON SEQUENCE ai_usage_id_seq TO hummdesk_app;

COMMIT;
