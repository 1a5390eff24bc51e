-- Whether a file that arrived only as a reference (a Slack file, a Slack Connect stub) has its bytes:
-- NULL not tried yet, 'retrying' (a transient failure; a slack.files job owns it), 'failed' (for good,
-- or out of attempts; fetch_error says why), 'fetched'. A failure is kept here instead of being
-- swallowed and tried again on every sync.
BEGIN;
ALTER TABLE attachments ADD COLUMN fetch_state text CHECK (fetch_state IN ('retrying', 'failed', 'fetched'));
ALTER TABLE attachments ADD COLUMN fetch_error text;
ALTER TABLE attachments ADD COLUMN fetch_attempts integer NOT NULL DEFAULT 0;
COMMIT;
