-- What accounts teach the local classifier: labelled examples and the trained model built from them.
BEGIN;

CREATE TABLE ai_category_examples (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  category text NOT NULL,
  text text NOT NULL,
  source text NOT NULL DEFAULT 'agent' CHECK (source IN ('agent', 'import', 'correction')),
  conversation_id uuid REFERENCES conversations(id) ON DELETE SET NULL,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_category_examples_account_idx ON ai_category_examples (account_id, created_at);

CREATE TABLE ai_category_models (
  account_id uuid PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  model jsonb NOT NULL,
  examples integer NOT NULL,
  -- The newest example the model has seen; a later one means the model is stale.
  trained_through timestamptz,
  trained_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE ai_category_examples ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ai_category_examples USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
ALTER TABLE ai_category_models ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ai_category_models USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());

COMMIT;
