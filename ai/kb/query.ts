import type { Database } from '../../storage/database.js';
import { tenantReads } from '../../storage/session.js';
import { EmbeddingError, type Embedder } from '../embed/embedder.js';
import { EmbedderSet } from '../embed/set.js';
import { Redactor } from '../safety/redact.js';
import { readKbIndex, type KbIndexRow } from './index-state.js';

/**
 * A knowledge-base search query, embedded before the search's transaction opens: an embedding model
 * may be an HTTP endpoint, and a transaction waiting on it holds a pooled connection (on PGlite, the
 * only one). `searchKb` takes this and no embedder, so it cannot call a model itself.
 */
export interface KbQuery {
  text: string;
  /** The model of `vector`; search uses it only while that is still the account's active model. */
  model?: string;
  vector?: Float32Array;
}

/**
 * The query as a vector of the account's active model (read in its own short transaction): the one
 * given when it is of that model, else embedded by that model's embedder with no transaction open
 * (customer text redacted first when it leaves the building). No vector when this hub cannot compute
 * that model or its endpoint is down: search then goes by words alone.
 */
export async function embedQuery(
  db: Database, accountId: string, embedder: Embedder, text: string,
  o: { vector?: Float32Array; modelId?: string; /** Reads the account's kb_index row (callers running together share one read). */ readIndex?: () => Promise<KbIndexRow | undefined> } = {},
): Promise<KbQuery> {
  const index = await (o.readIndex ? o.readIndex() : readAccountKbIndex(db, accountId));
  if (!index?.model || !index.dim) return { text };
  if (o.vector && (o.modelId ?? embedder.modelId) === index.model) return { text, model: index.model, vector: o.vector };
  const model = EmbedderSet.from(embedder).forModel(index.model);
  if (!model) return { text };
  try {
    const [vector] = await model.embed([model.external ? new Redactor().redact(text) : text]);
    return vector ? { text, model: index.model, vector } : { text };
  } catch (err) {
    if (err instanceof EmbeddingError) return { text };
    throw err;
  }
}

/** The account's kb_index row: one statement as the tenant (one round trip on node-postgres). */
export function readAccountKbIndex(db: Database, accountId: string): Promise<KbIndexRow | undefined> {
  return readKbIndex(tenantReads(db, accountId));
}
