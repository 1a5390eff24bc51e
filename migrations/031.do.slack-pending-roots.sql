-- Slack root cards about to be posted: written (and committed) before chat.postMessage, removed with
-- the thread row that records the post. A row left behind means an earlier sync may have posted the
-- card without recording it, so the next sync looks for it in the channel (by message metadata)
-- before posting another.
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

COMMIT;
