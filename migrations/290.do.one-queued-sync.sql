-- One queued surface sync per conversation. A surface.sync request written while the conversation already
-- has a sync job that is queued and has not started is absorbed by that job: the request is numbered (seq,
-- migration 220) but writes no outbox row, since the queued job reads the conversation when it starts and so
-- mirrors this change too. A job starts when a surface claims the conversation's sync (hub/surfaces/claims.ts
-- clears queued_job under the row's lock, so a request either is seen by that claim's read or gets a job of
-- its own); a job sent back by a busy channel before it started, or given up for now mid-run (it takes the
-- mark back), keeps absorbing. A marked job that is gone (done or dead in the outbox) or was marked more than
-- three minutes ago absorbs nothing: the request gets a job of its own.
BEGIN;

ALTER TABLE surface_sync_requests ADD COLUMN queued_job bigint, ADD COLUMN queued_at timestamptz;

CREATE OR REPLACE FUNCTION hd_number_surface_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  conv uuid;
  n bigint;
  q bigint;
  qat timestamptz;
BEGIN
  IF NEW.payload ? 'conversationId' THEN
    conv := (NEW.payload->>'conversationId')::uuid;
    INSERT INTO surface_sync_requests AS r (conversation_id, account_id, seq, queued_job, queued_at) VALUES (conv, NEW.account_id, 1, NEW.id, now())
      ON CONFLICT (conversation_id) DO UPDATE SET seq = r.seq + 1
      RETURNING seq, queued_job, queued_at INTO n, q, qat;
    IF q IS DISTINCT FROM NEW.id THEN
      IF q IS NOT NULL AND qat > now() - interval '3 minutes'
         AND EXISTS (SELECT 1 FROM outbox o WHERE o.id = q AND o.done_at IS NULL AND o.dead_at IS NULL) THEN
        -- A sync job of this conversation is queued and has not started: it will read this change.
        RETURN NULL;
      END IF;
      UPDATE surface_sync_requests SET queued_job = NEW.id, queued_at = now() WHERE conversation_id = conv;
    END IF;
    NEW.payload := NEW.payload || jsonb_build_object('seq', n);
  END IF;
  RETURN NEW;
END $$;

COMMIT;
