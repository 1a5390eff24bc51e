import type { Queryable } from '../../storage/database.js';
import { lockKbIndexForWrite } from './index-state.js';
import { StaleEmbeddingError, type EmbeddedPassages } from './passages.js';

export { passageText } from './passages.js';

export interface Article {
  id: string;
  title: string;
  body: string;
  language: string;
  tags: string[];
  status: 'published' | 'draft';
  url: string | null;
  externalId: string | null;
  /** The article's language variants share this id (the article they were made from; its own id otherwise). */
  variantGroup: string;
  createdAt: string;
  updatedAt: string;
}

export interface ArticleInput {
  title: string;
  body: string;
  language?: string;
  tags?: string[];
  status?: 'published' | 'draft';
  url?: string | null;
  externalId?: string | null;
}

const COLUMNS = `id, title, body, language, tags, status, url, external_id AS "externalId", COALESCE(variant_group, id) AS "variantGroup", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** The group already has an article in that language (each group holds one variant per language). */
export class VariantExistsError extends Error {
  override name = 'VariantExistsError';
  readonly code = 'variant_exists';
}

/** Runs a write, turning the one-variant-per-language index's violation into VariantExistsError. */
export async function oneVariantPerLanguage<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const e = err as { code?: string; constraint?: string; message?: string };
    if (e.code === '23505' && (e.constraint === 'kb_articles_variant_language' || /kb_articles_variant_language/.test(e.message ?? '')))
      throw new VariantExistsError('the article already has a variant in that language');
    throw err;
  }
}

/** The variants of an article's group (itself included), by language. */
export async function articleVariants(tx: Queryable, id: string): Promise<Article[]> {
  return (await tx.query<Article>(
    `SELECT ${COLUMNS} FROM kb_articles WHERE COALESCE(variant_group, id) = (SELECT COALESCE(variant_group, id) FROM kb_articles WHERE id = $1) ORDER BY language, id`, [id])).rows;
}

/**
 * The first published passage of each given article's variant in `language`, keyed by the given
 * article's id: what a draft cites when the customer's language has a variant of an article that fits.
 */
export async function variantPassages(tx: Queryable, articleIds: string[], language: string): Promise<Map<string, { chunkId: string; articleId: string; title: string; heading: string | null; text: string; language: string; url: string | null }>> {
  if (!articleIds.length) return new Map();
  const { rows } = await tx.query<{ source: string; chunkId: string; articleId: string; title: string; heading: string | null; text: string; language: string; url: string | null }>(
    `SELECT DISTINCT ON (s.id) s.id AS source, c.id AS "chunkId", v.id AS "articleId", v.title, c.heading, c.text, v.language, v.url
     FROM kb_articles s
     JOIN kb_articles v ON COALESCE(v.variant_group, v.id) = COALESCE(s.variant_group, s.id) AND v.language = $2 AND v.status = 'published' AND v.id <> s.id
     JOIN kb_chunks c ON c.article_id = v.id
     WHERE s.id = ANY ($1::uuid[])
     ORDER BY s.id, c.ordinal`,
    [articleIds, language],
  );
  return new Map(rows.map(({ source, ...p }) => [source, p]));
}

/** Whether the account has published passages in a language other than `language`. */
export async function hasPassagesOutside(tx: Queryable, language: string): Promise<boolean> {
  return (await tx.query<{ other: boolean }>(`SELECT EXISTS (SELECT 1 FROM kb_chunks WHERE published AND language <> $1) AS other`, [language])).rows[0]!.other;
}

// A message's vector goes into both of its searches (in its language and in all): written out once.
const literals = new WeakMap<ArrayLike<number>, string>();

/** pgvector's text form of a vector; remembered per vector object (vectors are never changed once made). */
export function toVectorLiteral(v: ArrayLike<number>): string {
  let literal = literals.get(v);
  if (literal === undefined) literals.set(v, (literal = `[${Array.from(v, (x) => (Number.isFinite(x) ? x : 0)).join(',')}]`));
  return literal;
}

/**
 * Replaces an article's chunks with passages embedded before the transaction (ai/kb/passages.ts).
 * Vectors are of the account's active model; chunks written during a reindex get the new model's
 * vectors from the reindex job. Throws StaleEmbeddingError when the article or the model changed since.
 */
export async function indexArticle(tx: Queryable, accountId: string, article: Article, embedded: EmbeddedPassages): Promise<number> {
  if (embedded.title !== article.title || embedded.body !== article.body) throw new StaleEmbeddingError('the article changed after its passages were embedded');
  await tx.query(`DELETE FROM kb_chunks WHERE article_id = $1`, [article.id]);
  const { passages, vectors, model } = embedded;
  if (!passages.length) return 0;
  const index = await lockKbIndexForWrite(tx, accountId);
  if (index.model && index.model !== model) throw new StaleEmbeddingError(`the account switched to ${index.model} after the passages were embedded`);
  const inserted = (await tx.query<{ id: string; ordinal: number }>(
    `INSERT INTO kb_chunks (account_id, article_id, ordinal, heading, text, language, published)
     SELECT $1, $2, o, h, t, $3, $4 FROM unnest($5::int[], $6::text[], $7::text[]) AS p(o, h, t) RETURNING id, ordinal`,
    [accountId, article.id, article.language, article.status === 'published', passages.map((p) => p.ordinal), passages.map((p) => p.heading), passages.map((p) => p.text)],
  )).rows;
  const ids = passages.map((p) => inserted.find((r) => r.ordinal === p.ordinal)!.id);
  // Without a way to compute the active model, the passages wait for the reindex to the configured one.
  if (!vectors) return passages.length;
  await writeEmbeddings(tx, model, ids, vectors);
  if (!index.model || !index.dim) await tx.query(`UPDATE kb_index SET model = $1, dim = $2 WHERE model IS NULL OR (model = $1 AND dim IS NULL)`, [model, vectors[0]!.length]);
  return passages.length;
}

/** Stores one model's vectors of chunks (skipping chunks gone meanwhile and vectors already there). */
export async function writeEmbeddings(tx: Queryable, model: string, chunkIds: string[], vectors: Float32Array[]): Promise<number> {
  if (!chunkIds.length) return 0;
  return (await tx.query(
    `INSERT INTO kb_embeddings (chunk_id, account_id, model, dim, published, language, embedding)
     SELECT c.id, c.account_id, $1, $2, c.published, c.language, v.e::vector
     FROM unnest($3::uuid[], $4::text[]) AS v(id, e) JOIN kb_chunks c ON c.id = v.id
     ON CONFLICT (chunk_id, model) DO NOTHING`,
    [model, vectors[0]!.length, chunkIds, vectors.map(toVectorLiteral)],
  )).rowCount;
}

/** Creates an article, or updates the one with the same external id (imports are repeatable). */
export async function upsertArticle(tx: Queryable, accountId: string, a: ArticleInput, embedded: EmbeddedPassages, variantGroup?: string): Promise<{ article: Article; created: boolean; chunks: number }> {
  const params = [accountId, a.title, a.body, a.language ?? 'en', a.tags ?? [], a.status ?? 'published', a.url ?? null, a.externalId ?? null];
  const existing = a.externalId
    ? (await tx.query<{ id: string }>(`SELECT id FROM kb_articles WHERE external_id = $1`, [a.externalId])).rows[0]
    : undefined;
  const article = existing
    ? (await tx.query<Article>(`UPDATE kb_articles SET title = $2, body = $3, language = $4, tags = $5, status = $6, url = $7, updated_at = now() WHERE id = $9 AND account_id = $1 AND external_id IS NOT DISTINCT FROM $8 RETURNING ${COLUMNS}`, [...params, existing.id])).rows[0]!
    : (await tx.query<Article>(`INSERT INTO kb_articles (account_id, title, body, language, tags, status, url, external_id, variant_group) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`, [...params, variantGroup ?? null])).rows[0]!;
  if (existing && variantGroup) await tx.query(`UPDATE kb_articles SET variant_group = $2 WHERE id = $1`, [article.id, variantGroup]);
  const chunks = await indexArticle(tx, accountId, article, embedded);
  return { article, created: !existing, chunks };
}

/** Whether a patch changes the passages (and so needs them embedded before its transaction). */
export function reindexes(patch: Partial<ArticleInput>): boolean {
  return patch.title !== undefined || patch.body !== undefined || patch.language !== undefined;
}

/** Applies a patch; one that reindexes needs the new title and body embedded (throws StaleEmbeddingError without). */
export async function updateArticle(tx: Queryable, accountId: string, id: string, patch: Partial<ArticleInput>, embedded?: EmbeddedPassages): Promise<Article | undefined> {
  const current = await getArticle(tx, id);
  if (!current) return undefined;
  const next = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as Article;
  const article = (await tx.query<Article>(
    `UPDATE kb_articles SET title = $2, body = $3, language = $4, tags = $5, status = $6, url = $7, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, next.title, next.body, next.language, next.tags, next.status, next.url],
  )).rows[0]!;
  if (reindexes(patch)) {
    if (!embedded) throw new StaleEmbeddingError('a patch of the text needs its passages embedded first');
    await indexArticle(tx, accountId, article, embedded);
  }
  else {
    await tx.query(`UPDATE kb_chunks SET published = $2 WHERE article_id = $1`, [id, article.status === 'published']);
    await tx.query(`UPDATE kb_embeddings SET published = $2 WHERE chunk_id IN (SELECT id FROM kb_chunks WHERE article_id = $1)`, [id, article.status === 'published']);
  }
  return article;
}

export async function getArticle(tx: Queryable, id: string): Promise<Article | undefined> {
  return (await tx.query<Article>(`SELECT ${COLUMNS} FROM kb_articles WHERE id = $1`, [id])).rows[0];
}

export async function deleteArticle(tx: Queryable, id: string): Promise<boolean> {
  return (await tx.query(`DELETE FROM kb_articles WHERE id = $1`, [id])).rowCount > 0;
}

export async function listArticles(tx: Queryable, o: { language?: string; status?: string; tag?: string; limit: number; after?: { updatedAt: string; id: string } }): Promise<Article[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (o.language) where.push(`language = $${params.push(o.language)}`);
  if (o.status) where.push(`status = $${params.push(o.status)}`);
  if (o.tag) where.push(`$${params.push(o.tag)} = ANY (tags)`);
  if (o.after) where.push(`(updated_at, id) < ($${params.push(o.after.updatedAt)}::timestamptz, $${params.push(o.after.id)}::uuid)`);
  return (await tx.query<Article>(
    `SELECT ${COLUMNS} FROM kb_articles ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id DESC LIMIT $${params.push(o.limit)}`,
    params,
  )).rows;
}
