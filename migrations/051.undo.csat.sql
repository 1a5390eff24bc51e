BEGIN;
DROP TABLE IF EXISTS csat_ratings;
DROP TRIGGER IF EXISTS conversations_resolved_at ON conversations;
DROP FUNCTION IF EXISTS hd_conversation_resolved();
ALTER TABLE conversations DROP COLUMN IF EXISTS resolved_at;
COMMIT;
