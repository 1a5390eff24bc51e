-- An inline part's Content-ID (without angle brackets), so `<img src="cid:…">` in message HTML finds its attachment.
BEGIN;
ALTER TABLE attachments ADD COLUMN content_id text;
COMMIT;
