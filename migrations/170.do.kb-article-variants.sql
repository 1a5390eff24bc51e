-- Language variants: one article in several languages. Each variant is its own article (own id,
-- language, passages); variants share a group, the id of the article they were made from. An article
-- without a group is its own group. One variant per language in a group.
BEGIN;
ALTER TABLE kb_articles ADD COLUMN variant_group uuid;
CREATE UNIQUE INDEX kb_articles_variant_language ON kb_articles (account_id, (COALESCE(variant_group, id)), language);
COMMIT;
