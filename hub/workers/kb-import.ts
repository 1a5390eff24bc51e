import type { Database } from '../../storage/database.js';
import type { EmbedderSet } from '../../ai/embed/set.js';
import { runImport } from '../../ai/kb/import.js';
import { requestTenantIndexIfLarge } from '../../ai/kb/reindex.js';
import { RetryLaterError, type JobHandler } from '../queue/jobs.js';

/**
 * `kb.import`: writes an import's articles a slice at a time (ai/kb/import.ts); the embedding runs in the
 * AI threads, so requests are served meanwhile. A run stops after a time budget and asks to run again.
 */
export function kbImportHandler(deps: { db: Database; embedders: () => EmbedderSet; maxAttempts: number; kick: () => void; budgetMs?: number }): JobHandler {
  return async (job) => {
    let indexRequested = false;
    const result = await runImport(deps.db, job.accountId, String(job.payload.importId), deps.embedders(), {
      budgetMs: deps.budgetMs,
      lastAttempt: job.attempt >= deps.maxAttempts,
      then: async (tx) => {
        indexRequested ||= await requestTenantIndexIfLarge(tx, job.accountId);
      },
    });
    if (indexRequested) deps.kick();
    if (result === 'continue') throw new RetryLaterError('import continues in the next run', 0);
    if (result === 'busy') throw new RetryLaterError('another run is writing this import', 5_000);
  };
}
