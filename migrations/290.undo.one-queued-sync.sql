BEGIN;

CREATE OR REPLACE FUNCTION hd_number_surface_sync() RETURNS trigger LANGUAGE plpgsql AS $$
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

ALTER TABLE surface_sync_requests DROP COLUMN queued_job, DROP COLUMN queued_at;

COMMIT;
