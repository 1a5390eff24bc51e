BEGIN;
DROP INDEX IF EXISTS kb_articles_variant_language;
ALTER TABLE kb_articles DROP COLUMN IF EXISTS variant_group;
COMMIT;
