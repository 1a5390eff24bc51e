-- Attachments whose bytes a channel gives only by reference (WhatsApp media ids, Slack files): the
-- message is committed first with the attachment `pending`; a job per attachment stores the bytes
-- (`stored`), waits after a transient failure (`retrying`) or, once the platform no longer has them or
-- retrying stops, records why (`failed`). NULL: bytes arrived with the message (or were never kept).
-- The columns came with migration 112 (Slack); this widens the states to every channel's.
BEGIN;
ALTER TABLE attachments DROP CONSTRAINT IF EXISTS attachments_fetch_state_check;
UPDATE attachments SET fetch_state = 'stored' WHERE fetch_state = 'fetched';
ALTER TABLE attachments ADD CONSTRAINT attachments_fetch_state_check CHECK (fetch_state IN ('pending', 'retrying', 'stored', 'failed'));
COMMIT;
