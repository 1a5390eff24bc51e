-- Agents on surfaces other than Slack (which keeps users.slack_user_id): a Teams user (AAD object id)
-- linked to a HummDesk user, by a matching email in the installation's tenant or by an admin. One link
-- per surface user and one per HummDesk user on a surface.
-- surface_action_claims make a card action happen once: a repeated click (double click, redelivered
-- invoke) on the same card version claims the same key and changes nothing.
BEGIN;

CREATE TABLE surface_agent_links (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  surface text NOT NULL CHECK (surface IN ('teams')),
  surface_user_id text NOT NULL,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  linked_by text NOT NULL DEFAULT 'admin' CHECK (linked_by IN ('email', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, surface, surface_user_id),
  UNIQUE (account_id, surface, user_id)
);

CREATE TABLE surface_action_claims (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  surface text NOT NULL CHECK (surface IN ('slack', 'teams')),
  claim_key text NOT NULL,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, surface, claim_key)
);
CREATE INDEX surface_action_claims_conversation ON surface_action_claims (conversation_id, created_at);

ALTER TABLE surface_agent_links ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON surface_agent_links USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
ALTER TABLE surface_action_claims ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON surface_action_claims USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON surface_agent_links, surface_action_claims TO hummdesk_app;

COMMIT;
