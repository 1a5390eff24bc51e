-- WhatsApp message templates of a channel's business account, synced from Graph (approved only) and
-- kept current by Meta's message_template_status_update webhooks. A template is the only message
-- WhatsApp delivers outside the 24-hour customer-service window.
BEGIN;

CREATE TABLE whatsapp_templates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  waba_id text NOT NULL,
  template_id text NOT NULL,
  name text NOT NULL,
  language text NOT NULL,
  category text,
  status text NOT NULL,
  status_reason text,
  body text NOT NULL DEFAULT '',
  params integer NOT NULL DEFAULT 0,
  components jsonb NOT NULL DEFAULT '[]',
  synced_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (channel_id, name, language)
);
CREATE INDEX whatsapp_templates_meta ON whatsapp_templates (waba_id, template_id);

ALTER TABLE whatsapp_templates ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON whatsapp_templates USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON whatsapp_templates TO hummdesk_app;

COMMIT;
