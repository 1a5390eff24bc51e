-- Slack install links (OAuth `state`) handed out by POST /slack/oauth/start: a callback spends its
-- nonce (DELETE … RETURNING), so each link installs at most once; rows expire with the link.
BEGIN;

CREATE TABLE slack_oauth_states (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  nonce text PRIMARY KEY,
  user_id uuid,
  expires_at timestamptz NOT NULL
);
CREATE INDEX slack_oauth_states_expiry ON slack_oauth_states (account_id, expires_at);

ALTER TABLE slack_oauth_states ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON slack_oauth_states USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, DELETE ON slack_oauth_states TO hummdesk_app;

COMMIT;
