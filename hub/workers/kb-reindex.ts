import type { Database } from '../../storage/database.js';
import type { EmbedderSet } from '../../ai/embed/set.js';
import { runKbIndex, type RunOptions } from '../../ai/kb/reindex.js';
import { RetryLaterError, type JobHandler } from '../queue/jobs.js';

/**
 * `kb.reindex`: re-embeds the account's passages with the configured model, or builds a large
 * account's own HNSW index (ai/kb/reindex.ts). A run stops after a time budget and asks to run again,
 * so no job outlives a runner's lease; progress is in the database, so any run resumes it.
 */
export function kbReindexHandler(deps: { db: Database; embedders: () => EmbedderSet; maxAttempts: number; options?: RunOptions }): JobHandler {
  return async (job) => {
    const result = await runKbIndex(deps.db, job.accountId, deps.embedders(), { ...deps.options, lastAttempt: job.attempt >= deps.maxAttempts });
    if (result === 'continue') throw new RetryLaterError('reindex continues in the next run', 0);
    // Another run holds the account's lease; look again once it may have let go.
    if (result === 'busy') throw new RetryLaterError('another run is reindexing this account', 5_000);
  };
}
