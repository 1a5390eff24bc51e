-- Where each agent last read each conversation: the inbox's unread mark is a customer message after it.
BEGIN;

CREATE TABLE conversation_reads (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  read_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX conversation_reads_conversation_idx ON conversation_reads (conversation_id);

ALTER TABLE conversation_reads ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversation_reads USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON conversation_reads TO hummdesk_app;

COMMIT;
