-- Attachments whose bytes a channel gives only by reference (WhatsApp media ids): the message is
-- committed first with the attachment `pending`; a media.fetch job per attachment stores the bytes
-- (`stored`) or, once the platform no longer has them or retrying stops, records why (`failed`).
-- NULL: bytes arrived with the message (or were never kept), as before.
BEGIN;
ALTER TABLE attachments
  ADD COLUMN fetch_state text CHECK (fetch_state IN ('pending', 'stored', 'failed')),
  ADD COLUMN fetch_attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN fetch_error text;
COMMIT;
