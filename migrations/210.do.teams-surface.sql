-- Microsoft Teams as an agent surface (#13). A Teams team the bot is in is a `channels` row of kind
-- 'teams' (external_key = the Teams team id) once an account claimed it with the one-time code the bot
-- posted in that team; until then it waits here, before any tenant is known.
BEGIN;

-- Teams teams the bot was added to that no account has claimed yet. Read only by exact key (team id,
-- or the code's SHA-256) as the tables' owner; the application role has no access.
CREATE TABLE teams_pending_installs (
  team_id text PRIMARY KEY,
  tenant_id text NOT NULL,
  aad_group_id text,
  name text,
  service_url text NOT NULL,
  channels jsonb NOT NULL DEFAULT '[]',
  code_hash text UNIQUE,
  code_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON teams_pending_installs FROM hummdesk_app;

-- Activities already acted on: a redelivery (same activity id) finds its row and does nothing again.
CREATE TABLE teams_activities (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  activity_id text NOT NULL,
  outcome text,
  message_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, activity_id)
);
CREATE INDEX teams_activities_created ON teams_activities (account_id, created_at);
ALTER TABLE teams_activities ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON teams_activities USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON teams_activities TO hummdesk_app;

-- Agent links live in users.teams_user_id (migration 001): the Entra (AAD) object id of the agent's Teams user.
CREATE INDEX users_teams_user_id ON users (account_id, teams_user_id) WHERE teams_user_id IS NOT NULL;

COMMIT;
