import type { Queryable } from '../../storage/database.js';

/** How often drafts cited one article: every draft that named it, and those an agent sent (accepted or edited). */
export interface CitedArticle {
  articleId: string;
  title: string;
  language: string;
  status: 'published' | 'draft';
  drafts: number;
  sent: number;
}

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * The articles the tenant's drafts since `since` cited most (a draft citing an article twice counts once),
 * from the citations stored with each draft. Articles deleted since are left out. Run as the tenant.
 */
export async function mostCitedArticles(tx: Queryable, since: Date, limit: number): Promise<CitedArticle[]> {
  const { rows } = await tx.query<CitedArticle>(
    `WITH cited AS (
       SELECT DISTINCT d.id, d.status,
         CASE WHEN c->>'id' ~ '${UUID}' THEN (c->>'id')::uuid END AS article_id
       FROM drafts d
       CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(d.citations) = 'array' THEN d.citations ELSE '[]'::jsonb END) c
       WHERE d.created_at >= $1
     )
     SELECT a.id AS "articleId", a.title, a.language, a.status,
       count(*)::int AS drafts, (count(*) FILTER (WHERE cited.status IN ('accepted', 'edited')))::int AS sent
     FROM cited JOIN kb_articles a ON a.id = cited.article_id
     GROUP BY a.id
     ORDER BY drafts DESC, sent DESC, a.title, a.id
     LIMIT $2`,
    [since, limit],
  );
  return rows;
}
