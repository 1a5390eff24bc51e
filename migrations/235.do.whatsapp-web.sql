-- WhatsApp through a linked phone (whatsapp-web.js, unofficial): its own channel kind, and a database
-- home for its session (RemoteAuth), so a linked phone survives a hub moving to another machine.
BEGIN;
ALTER TABLE channels DROP CONSTRAINT channels_kind_check;
ALTER TABLE channels ADD CONSTRAINT channels_kind_check CHECK (kind IN ('email', 'whatsapp', 'whatsapp-web', 'messenger', 'slack', 'teams', 'webchat'));

-- One archived WhatsApp Web browser profile per channel (RemoteAuth's store): sealed bytes, written by the listener holding the channel.
CREATE TABLE whatsapp_web_sessions (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
  archive bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE whatsapp_web_sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whatsapp_web_sessions USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON whatsapp_web_sessions TO hummdesk_app;
COMMIT;
