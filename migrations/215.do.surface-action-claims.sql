-- surface_action_claims make a card action happen once: a repeated click (double click, redelivered
-- invoke) on the same card version claims the same key and changes nothing.
BEGIN;

CREATE TABLE surface_action_claims (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  surface text NOT NULL CHECK (surface IN ('slack', 'teams')),
  claim_key text NOT NULL,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, surface, claim_key)
);
CREATE INDEX surface_action_claims_conversation ON surface_action_claims (conversation_id, created_at);

ALTER TABLE surface_action_claims ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON surface_action_claims USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON surface_action_claims TO hummdesk_app;

COMMIT;
