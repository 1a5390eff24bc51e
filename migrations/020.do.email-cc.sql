-- Conversation-level settings a channel keeps per thread; email remembers who is copied (metadata.cc).
BEGIN;
ALTER TABLE conversations ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}';
COMMIT;
