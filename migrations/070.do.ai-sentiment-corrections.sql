-- What agents teach the local sentiment model: corrected labels and the residual learned from them
-- on top of the shipped model (ai/providers/local/sentiment-corrections.ts).
BEGIN;

CREATE TABLE ai_sentiment_examples (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  -- The text is the customer's: erasing their conversation or message erases the example too.
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  message_id uuid REFERENCES messages(id) ON DELETE CASCADE,
  text text NOT NULL,
  label text NOT NULL CHECK (label IN ('negative', 'neutral', 'positive')),
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_sentiment_examples_account_idx ON ai_sentiment_examples (account_id, created_at);

CREATE TABLE ai_sentiment_models (
  account_id uuid PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  model jsonb NOT NULL,
  examples integer NOT NULL,
  -- The shipped model's id the residual was learned on; another one makes the residual meaningless.
  base_model text NOT NULL,
  trained_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE ai_sentiment_examples ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ai_sentiment_examples USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
ALTER TABLE ai_sentiment_models ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ai_sentiment_models USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON ai_sentiment_examples, ai_sentiment_models TO hummdesk_app;

COMMIT;
