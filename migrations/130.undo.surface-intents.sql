BEGIN;

CREATE TABLE slack_pending_roots (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  installation_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  channel text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, channel)
);
ALTER TABLE slack_pending_roots ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON slack_pending_roots USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON slack_pending_roots TO hummdesk_app;

INSERT INTO slack_pending_roots (account_id, conversation_id, installation_id, channel, started_at)
  SELECT account_id, conversation_id, (target->>'installationId')::uuid, target->>'channel', coalesce(started_at, now())
  FROM surface_intents WHERE surface = 'slack' AND state = 'pending' AND intent_key LIKE 'root:%'
  ON CONFLICT DO NOTHING;

DROP TABLE surface_syncs;
DROP TABLE surface_intents;

COMMIT;
