-- Queued syncs of one conversation collapse into one run. Every surface.sync outbox row is numbered per
-- conversation as it is written (a trigger: `payload.seq`, from surface_sync_requests.seq, incremented
-- under the row's lock, so a snapshot that sees number n sees every change numbered up to n). A sync
-- records the number its read saw once it has mirrored all of it (surface_syncs.synced_seq); a job whose
-- number is not above it finds nothing to do and returns after one statement.
BEGIN;

CREATE TABLE surface_sync_requests (
  conversation_id uuid PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  seq bigint NOT NULL
);
ALTER TABLE surface_sync_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON surface_sync_requests USING (account_id = hd_account()) WITH CHECK (account_id = hd_account());
GRANT SELECT, INSERT, UPDATE ON surface_sync_requests TO hummdesk_app;

ALTER TABLE surface_syncs ADD COLUMN synced_seq bigint NOT NULL DEFAULT 0;

CREATE FUNCTION hd_number_surface_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  IF NEW.payload ? 'conversationId' THEN
    INSERT INTO surface_sync_requests AS r (conversation_id, account_id, seq) VALUES ((NEW.payload->>'conversationId')::uuid, NEW.account_id, 1)
      ON CONFLICT (conversation_id) DO UPDATE SET seq = r.seq + 1
      RETURNING seq INTO n;
    NEW.payload := NEW.payload || jsonb_build_object('seq', n);
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER outbox_number_surface_sync BEFORE INSERT ON outbox FOR EACH ROW WHEN (NEW.topic = 'surface.sync') EXECUTE FUNCTION hd_number_surface_sync();

COMMIT;
