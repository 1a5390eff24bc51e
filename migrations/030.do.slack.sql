-- Slack agent surface: what agents posted in a conversation's Slack thread and what it became.
BEGIN;

-- One row per Slack message an agent wrote into a triage thread (key `${slackChannel}:${ts}`):
-- a retried Events API delivery finds its row and is not turned into a second reply.
CREATE TABLE slack_agent_posts (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  installation_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  post_key text NOT NULL,
  conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  message_id uuid REFERENCES messages(id) ON DELETE SET NULL,
  -- Until message_id is set, the author and text recognise the message the post became.
  user_id uuid REFERENCES users(id) ON DELETE SET NULL,
  text text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, post_key)
);
CREATE INDEX slack_agent_posts_message_idx ON slack_agent_posts (message_id);

ALTER TABLE slack_agent_posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON slack_agent_posts USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON slack_agent_posts TO hummdesk_app;

COMMIT;
