BEGIN;
DROP INDEX IF EXISTS messages_conversation_seq_idx;
ALTER TABLE messages DROP COLUMN IF EXISTS seq;
COMMIT;
