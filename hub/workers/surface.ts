import type { Surface } from '../ai-stage.js';
import type { Job } from '../queue/jobs.js';

/** Mirrors a conversation into every registered surface; none registered means nothing to do. */
export function surfaceHandler(surfaces: () => Surface[]) {
  return async (job: Job): Promise<void> => {
    const conversationId = String(job.payload.conversationId);
    const messageId = job.payload.messageId ? String(job.payload.messageId) : undefined;
    const seq = typeof job.payload.seq === 'number' ? job.payload.seq : undefined;
    for (const s of surfaces()) await s.sync(job.accountId, conversationId, messageId, { id: job.id, ...(seq !== undefined ? { seq } : {}) });
  };
}
