import type { Database } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import type { Embedder } from '../embed/embedder.js';
import { EmbedderSet } from '../embed/set.js';
import { chunkMarkdown, type Passage } from './chunk.js';
import { readKbIndex } from './index-state.js';

/**
 * An article's passages and their vectors, computed before its write transaction opens: an embedding
 * model may be an HTTP endpoint, and a transaction waiting on it holds a connection and row locks.
 */
export interface EmbeddedPassages {
  /** What the passages were cut from; a write of an article that differs is refused as stale. */
  title: string;
  body: string;
  passages: Passage[];
  /** The account's active model when embedded (the configured one before its first article). */
  model: string;
  /** One per passage; null when this hub cannot compute `model` (the reindex fills them in). */
  vectors: Float32Array[] | null;
}

/** The article was edited, or the account switched models, between embedding and writing: embed again. */
export class StaleEmbeddingError extends Error {
  override name = 'StaleEmbeddingError';
  readonly code = 'stale_embedding';
}

/** The text a passage is embedded as. */
export function passageText(p: { heading: string | null; text: string }): string {
  return p.heading ? `${p.heading}. ${p.text}` : p.text;
}

/** Chunks articles and embeds every passage with the account's active model in one call, no transaction open. */
export async function embedArticles(db: Database, accountId: string, embedder: Embedder, articles: { title: string; body: string }[]): Promise<EmbeddedPassages[]> {
  const models = EmbedderSet.from(embedder);
  const index = await withAccount(db, accountId, (tx) => readKbIndex(tx));
  const modelId = index?.model ?? models.configured.modelId;
  const model = models.forModel(modelId);
  const chunked = articles.map((a) => ({ title: a.title, body: a.body, passages: chunkMarkdown(a.title, a.body) }));
  const all = chunked.flatMap((c) => c.passages.map(passageText));
  // Bulk work: in the AI threads it goes in slices and never holds up messages or searches.
  const vectors = model && all.length ? await model.embed(all, { accountId, lane: 'bulk' }) : null;
  let at = 0;
  return chunked.map((c) => ({ ...c, model: modelId, vectors: vectors && vectors.slice(at, (at += c.passages.length)) }));
}
