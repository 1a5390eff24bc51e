-- Surfaces (Slack, Teams) call their platform outside any database transaction. What a sync is about
-- to post is recorded first (surface_intents, pending), the call made, and its result recorded in its
-- own short transaction (done, with the platform's id). A pending intent found later means an earlier
-- attempt may have posted without recording it: the surface looks for it (message metadata carries the
-- intent id) before posting again. surface_syncs serialises the syncs of one conversation per surface
-- with a lease instead of a transaction-long lock; a sync asked for while one runs marks it dirty, and
-- the running one goes round once more instead of a second full run.
BEGIN;

CREATE TABLE surface_intents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  surface text NOT NULL CHECK (surface IN ('slack', 'teams')),
  -- What is to be made, unique per conversation and surface: `root:<installation>:<channel>`, `msg:<thread>:<message>`, …
  intent_key text NOT NULL,
  -- Where it goes (channel, thread) and what the surface needs to finish or find it (uploaded file ids, a recovery cursor, the state shown).
  target jsonb NOT NULL DEFAULT '{}',
  detail jsonb NOT NULL DEFAULT '{}',
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
  remote_id text,
  attempts integer NOT NULL DEFAULT 0,
  -- When the call went out; NULL while no call is known to have left (a refused call resets it).
  started_at timestamptz,
  done_at timestamptz,
  UNIQUE (conversation_id, surface, intent_key)
);

CREATE TABLE surface_syncs (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  surface text NOT NULL CHECK (surface IN ('slack', 'teams')),
  owner text,
  lease_until timestamptz,
  dirty boolean NOT NULL DEFAULT false,
  PRIMARY KEY (conversation_id, surface)
);

ALTER TABLE surface_intents ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON surface_intents USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
ALTER TABLE surface_syncs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON surface_syncs USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON surface_intents, surface_syncs TO hummdesk_app;

-- Root cards about to be posted are pending intents now.
INSERT INTO surface_intents (account_id, conversation_id, surface, intent_key, target, started_at)
  SELECT account_id, conversation_id, 'slack', 'root:' || installation_id || ':' || channel,
         jsonb_build_object('installationId', installation_id, 'channel', channel), started_at
  FROM slack_pending_roots
  ON CONFLICT DO NOTHING;
DROP TABLE slack_pending_roots;

COMMIT;
