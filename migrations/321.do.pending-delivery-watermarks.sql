-- Messenger delivery and read watermarks that arrive before the send they cover is recorded (Meta can
-- report a read before our deliver job has stored the message id the Send API answered). Kept per
-- thread, the latest time per state, and applied when the deliver job records a send of that thread
-- made at or before it. Like pending_delivery_statuses (migration 150), rows older than seven days go.
BEGIN;
CREATE TABLE pending_delivery_watermarks (
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  thread_key text NOT NULL,
  status text NOT NULL CHECK (status IN ('delivered', 'read')),
  up_to timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, thread_key, status)
);
CREATE INDEX pending_delivery_watermarks_age_idx ON pending_delivery_watermarks (channel_id, received_at);

ALTER TABLE pending_delivery_watermarks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pending_delivery_watermarks USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE, DELETE ON pending_delivery_watermarks TO hummdesk_app;
COMMIT;
