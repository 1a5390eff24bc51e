-- Delivery receipts that arrive before their send is recorded (WhatsApp can report `sent` before our
-- deliver job has stored the message id Graph answered). Kept here, one row per message id with the
-- furthest state seen, and applied when the deliver job stores that id. Rows nobody claims are
-- receipts for messages sent outside HummDesk (the WhatsApp Business app, another API client): each new
-- receipt of a channel deletes that channel's rows older than seven days.
BEGIN;
CREATE TABLE pending_delivery_statuses (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  external_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
  error text,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, external_id)
);
CREATE INDEX pending_delivery_statuses_age_idx ON pending_delivery_statuses (channel_id, received_at);

ALTER TABLE pending_delivery_statuses ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pending_delivery_statuses USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON pending_delivery_statuses TO hummdesk_app;
COMMIT;
