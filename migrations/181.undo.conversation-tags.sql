DROP INDEX IF EXISTS conversations_snoozed_idx;
DROP INDEX IF EXISTS conversations_tags_idx;
ALTER TABLE conversations DROP COLUMN IF EXISTS tags;
