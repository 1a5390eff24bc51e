-- Files a visitor uploaded to a channel before sending the message that carries them.
BEGIN;

-- An upload belongs to one uploader (the web chat visitor id) on one channel until a message of that
-- same uploader claims it (message_id); only then does it become an attachment row.
CREATE TABLE uploads (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  uploader text NOT NULL,
  name text NOT NULL,
  mime_type text NOT NULL,
  size integer NOT NULL,
  blob_key text NOT NULL,
  message_id uuid REFERENCES messages(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX uploads_uploader_idx ON uploads (channel_id, uploader, created_at);

ALTER TABLE uploads ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON uploads USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON uploads TO hummdesk_app;

COMMIT;
