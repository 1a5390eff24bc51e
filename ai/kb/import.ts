import type { Database, Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { EmbeddingError, type Embedder } from '../embed/embedder.js';
import type { ArticleInput } from './articles.js';
import { saveArticles } from './save.js';
import { embedArticles } from './passages.js';

/**
 * A knowledge-base import as a `kb.import` job: the request stores the articles (kb_imports) and answers
 * at once; the job embeds and writes them a slice at a time, each slice's progress committed with its
 * articles, so a run cut off resumes after the last slice written and nothing is written twice.
 */

export interface KbImportStatus {
  id: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  /** Articles in the import, and how many are written. */
  total: number;
  done: number;
  created: number;
  updated: number;
  chunks: number;
  /** Why the import failed (or why its last run did, while it is retried). */
  error: { code: string; message: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

// Articles embedded together, and written per transaction: progress moves in steps of the latter. On
// PGlite (one connection, on the main thread) a transaction holds off every request's statements until it
// commits: a slice of 4 is embedded in one call, then written one article per transaction.
const SLICE = 20;
const PGLITE_SLICE = 4;
const PGLITE_PER_TRANSACTION = 1;

const COLUMNS = `id, state, total, done, created, updated, chunks, error_code AS "errorCode", error,
  created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

type Row = Omit<KbImportStatus, 'error'> & { errorCode: string | null; error: string | null };

function status(r: Row): KbImportStatus {
  const iso = (t: string | Date | null) => (t ? new Date(t).toISOString() : null);
  return {
    id: r.id, state: r.state, total: r.total, done: r.done, created: r.created, updated: r.updated, chunks: r.chunks,
    error: r.errorCode ? { code: r.errorCode, message: r.error ?? '' } : null,
    createdAt: iso(r.createdAt)!, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt),
  };
}

/** Stores the import and enqueues its job, in the caller's transaction. */
export async function requestImport(tx: Queryable, accountId: string, articles: ArticleInput[], userId: string | null): Promise<KbImportStatus> {
  const { rows } = await tx.query<Row>(
    `INSERT INTO kb_imports (account_id, articles, total, created_by) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [accountId, JSON.stringify(articles), articles.length, userId]);
  await enqueue(tx, accountId, 'kb.import', { importId: rows[0]!.id });
  return status(rows[0]!);
}

/** An import of the transaction's account (row-level security), if there is one with that id. */
export async function readImport(tx: Queryable, id: string): Promise<KbImportStatus | undefined> {
  const row = (await tx.query<Row>(`SELECT ${COLUMNS} FROM kb_imports WHERE id = $1`, [id])).rows[0];
  return row && status(row);
}

/** Another run wrote this slice first (a lease ran out while this one embedded). */
class SliceTaken extends Error {}

export interface ImportRunOptions {
  /** Stop after this long and report 'continue' (the job runs again; runners have leases). */
  budgetMs?: number;
  /** The last attempt: a failure marks the import failed instead of waiting for a retry. */
  lastAttempt?: boolean;
  /** Runs in each slice's transaction (a large account schedules its own search index). */
  then?: (tx: Queryable) => Promise<void>;
  /** Articles embedded together; by default 20, and 4 on the embedded store. */
  slice?: number;
  /** Articles per transaction (at most `slice`); by default the slice, and 1 on the embedded store. */
  perTransaction?: number;
}

/** The stable code an import failure is shown with. */
export function importFailureCode(err: unknown): string {
  if (err instanceof EmbeddingError) return err.code.startsWith('ai_') ? err.code : 'embeddings_unavailable';
  return 'import_failed';
}

/** One run of an import's job. Idempotent: it starts from the progress the table holds. */
export async function runImport(db: Database, accountId: string, importId: string, embedder: Embedder, o: ImportRunOptions = {}): Promise<'done' | 'continue' | 'busy' | 'gone'> {
  const deadline = Date.now() + (o.budgetMs ?? 60_000);
  const job = await withAccount(db, accountId, async (tx) =>
    (await tx.query<{ state: string; done: number; total: number; articles: ArticleInput[] }>(
      `UPDATE kb_imports SET state = 'running', started_at = coalesce(started_at, now()) WHERE id = $1 AND state IN ('queued', 'running')
       RETURNING state, done, total, articles`, [importId])).rows[0]);
  if (!job) return 'gone';
  let done = job.done;
  const size = o.slice ?? (db.kind === 'pglite' ? PGLITE_SLICE : SLICE);
  const perTransaction = Math.min(size, o.perTransaction ?? (db.kind === 'pglite' ? PGLITE_PER_TRANSACTION : size));
  try {
    while (done < job.total) {
      const slice = job.articles.slice(done, done + size);
      const embedded = await embedArticles(db, accountId, embedder, slice);
      for (let at = 0; at < slice.length; at += perTransaction) {
        const part = slice.slice(at, at + perTransaction);
        const from = done;
        await saveArticles(db, accountId, part, embedder, async (tx, saved) => {
          const created = saved.filter((s) => s.created).length;
          const { rowCount } = await tx.query(
            `UPDATE kb_imports SET done = done + $3, created = created + $4, updated = updated + $5, chunks = chunks + $6, error_code = NULL, error = NULL
             WHERE id = $1 AND done = $2 AND state = 'running'`,
            [importId, from, saved.length, created, saved.length - created, saved.reduce((n, s) => n + s.chunks, 0)]);
          if (!rowCount) throw new SliceTaken();
          await o.then?.(tx);
        }, embedded.slice(at, at + perTransaction));
        done += part.length;
      }
      if (done < job.total && Date.now() > deadline) return 'continue';
    }
    await withAccount(db, accountId, (tx) => tx.query(
      `UPDATE kb_imports SET state = 'done', finished_at = now(), articles = '[]'::jsonb WHERE id = $1 AND state = 'running'`, [importId]));
    return 'done';
  } catch (err) {
    if (err instanceof SliceTaken) return 'busy';
    const fatal = !!o.lastAttempt || (err instanceof EmbeddingError && ['auth', 'bad_request', 'dimension_mismatch', 'bad_response'].includes(err.code));
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    await withAccount(db, accountId, (tx) => tx.query(
      `UPDATE kb_imports SET error_code = $2, error = $3,
         state = CASE WHEN $4 THEN 'failed' ELSE state END, finished_at = CASE WHEN $4 THEN now() ELSE finished_at END,
         articles = CASE WHEN $4 THEN '[]'::jsonb ELSE articles END
       WHERE id = $1 AND state = 'running'`,
      [importId, importFailureCode(err), message, fatal])).catch(() => undefined);
    if (fatal) return 'gone';
    throw err;
  }
}
