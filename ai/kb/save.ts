import type { Database, Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { EmbeddingError, type Embedder } from '../embed/embedder.js';
import { articleVariants, getArticle, oneVariantPerLanguage, reindexes, updateArticle, upsertArticle, VariantExistsError, type Article, type ArticleInput } from './articles.js';
import { embedArticles, StaleEmbeddingError, type EmbeddedPassages } from './passages.js';

/*
 * Article writes as two steps: chunk and embed with no transaction open, then write in one transaction.
 * If the article or the account's model changed in between, the write is refused and done again.
 */

const ATTEMPTS = 3;

async function again<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof StaleEmbeddingError)) throw err;
      // Only a reindex switching models or a concurrent edit gets here; a few rounds settle it.
      if (i >= ATTEMPTS) throw new EmbeddingError('unavailable', `${err.message} (${ATTEMPTS} times)`);
    }
  }
}

export interface Saved {
  article: Article;
  created: boolean;
  chunks: number;
}

/**
 * Creates articles, or updates those with the same external id; `then` runs last in the same transaction.
 * `embedded`: the inputs' passages embedded already (an import embeds a slice at once and writes it in
 * smaller transactions); used once, a stale one is embedded again.
 */
export async function saveArticles(db: Database, accountId: string, inputs: ArticleInput[], embedder: Embedder, then?: (tx: Queryable, saved: Saved[]) => Promise<void>, embedded?: EmbeddedPassages[]): Promise<Saved[]> {
  let given = embedded;
  return again(async () => {
    const embedded = given ?? await embedArticles(db, accountId, embedder, inputs);
    given = undefined;
    return withAccount(db, accountId, async (tx) => {
      const saved: Saved[] = [];
      for (const [i, a] of inputs.entries()) saved.push(await oneVariantPerLanguage(upsertArticle(tx, accountId, a, embedded[i]!)));
      await then?.(tx, saved);
      return saved;
    });
  });
}

/** Applies a patch; a new title or body is embedded before the transaction. Undefined when there is no such article. */
export async function editArticle(db: Database, accountId: string, id: string, patch: Partial<ArticleInput>, embedder: Embedder, then?: (tx: Queryable) => Promise<void>): Promise<Article | undefined> {
  return again(async () => {
    let embedded: EmbeddedPassages | undefined;
    if (reindexes(patch)) {
      const current = patch.title !== undefined && patch.body !== undefined ? undefined : await withAccount(db, accountId, (tx) => getArticle(tx, id));
      const title = patch.title ?? current?.title;
      const body = patch.body ?? current?.body;
      if (title === undefined || body === undefined) return undefined;
      [embedded] = await embedArticles(db, accountId, embedder, [{ title, body }]);
    }
    return withAccount(db, accountId, async (tx) => {
      const article = await oneVariantPerLanguage(updateArticle(tx, accountId, id, patch, embedded));
      if (article) await then?.(tx);
      return article;
    });
  });
}

/**
 * Adds a language variant to an article's group: its own article (id, language, passages) that search
 * and drafts know as the same article in another language. Undefined when there is no such article;
 * VariantExistsError when the group already has that language.
 */
export async function saveVariant(db: Database, accountId: string, sourceId: string, input: ArticleInput & { language: string }, embedder: Embedder, then?: (tx: Queryable) => Promise<void>): Promise<Article | undefined> {
  return again(async () => {
    const [embedded] = await embedArticles(db, accountId, embedder, [input]);
    return withAccount(db, accountId, async (tx) => {
      const variants = await articleVariants(tx, sourceId);
      const source = variants.find((a) => a.id === sourceId);
      if (!source) return undefined;
      if (variants.some((a) => a.language === input.language)) throw new VariantExistsError(`the article already has a ${input.language} variant`);
      const { article } = await oneVariantPerLanguage(upsertArticle(tx, accountId, input, embedded!, source.variantGroup));
      await then?.(tx);
      return article;
    });
  });
}
