BEGIN;
ALTER TABLE attachments DROP CONSTRAINT IF EXISTS attachments_fetch_state_check;
UPDATE attachments SET fetch_state = 'fetched' WHERE fetch_state = 'stored';
UPDATE attachments SET fetch_state = NULL WHERE fetch_state = 'pending';
ALTER TABLE attachments ADD CONSTRAINT attachments_fetch_state_check CHECK (fetch_state IN ('retrying', 'failed', 'fetched'));
COMMIT;
