-- Routing: per-account rules (category and language → team) and each team's round-robin position.
BEGIN;

CREATE TABLE routing_rules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  -- Lower first; the first rule whose non-null conditions all match wins.
  position integer NOT NULL DEFAULT 0,
  category text,
  language text,
  team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_rules_account_idx ON routing_rules (account_id, position, created_at);

-- One row per team; locked while an agent is chosen so concurrent jobs serialise per team.
CREATE TABLE routing_state (
  team_id uuid PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  last_user_id uuid,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Agents' open load is counted per assignee on every routing decision.
CREATE INDEX conversations_assignee_idx ON conversations (assignee_id, status) WHERE assignee_id IS NOT NULL;

ALTER TABLE routing_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing_rules USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
ALTER TABLE routing_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing_state USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON routing_rules, routing_state TO hummdesk_app;

COMMIT;
