import type { ChannelKind, Connector } from '../../connectors/core/types.js';
import { PermanentError, RateLimitError } from '../../connectors/core/errors.js';
import type { Database } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation } from '../../storage/repositories/channels.js';
import { getConversation } from '../../storage/repositories/conversations.js';
import { threadControl } from '../../storage/repositories/thread-control.js';
import { audit } from '../../storage/repositories/audit.js';
import { RetryLaterError, UnrecoverableJobError, type Job } from '../queue/jobs.js';

interface Deps {
  db: Database;
  box: SecretBox;
  connectors: () => Map<ChannelKind, Connector>;
}

/**
 * `channel.handback`: a resolved conversation whose platform thread we took (Messenger handover) goes
 * back to the app that had it. Read, call, record: no network call inside a transaction. A conversation
 * reopened meanwhile, or a thread already passed on, is left as it is.
 */
export function handbackHandler(deps: Deps) {
  return async (job: Job): Promise<void> => {
    const conversationId = String(job.payload.conversationId);
    const found = await withAccount(deps.db, job.accountId, async (tx) => {
      const conversation = await getConversation(tx, conversationId);
      const control = await threadControl(tx, conversationId);
      if (!conversation || conversation.status !== 'resolved' || control?.owner !== 'us' || !control.previousAppId) return undefined;
      const channel = await getInstallation(tx, deps.box, conversation.channelId);
      const recipient = (
        await tx.query<{ externalId: string }>(`SELECT external_id AS "externalId" FROM contact_identities WHERE contact_id = $1 AND channel_id = $2 ORDER BY created_at LIMIT 1`, [
          conversation.contactId, conversation.channelId,
        ])
      ).rows[0];
      return channel && recipient ? { channel, recipient, control } : undefined;
    });
    if (!found) return;
    const connector = deps.connectors().get(found.channel.kind);
    if (!connector?.handBack) return;
    try {
      await connector.handBack(found.channel, found.recipient, { appId: found.control.previousAppId });
    } catch (err) {
      if (err instanceof RateLimitError) throw new RetryLaterError(err.message, err.retryAfterMs);
      if (err instanceof PermanentError) throw new UnrecoverableJobError(err.message);
      throw err;
    }
    await withAccount(deps.db, job.accountId, (tx) =>
      audit(tx, { accountId: job.accountId, actorKind: 'system', actorId: null, action: 'conversation.thread_passed', targetKind: 'conversation', targetId: conversationId, data: { toAppId: found.control.previousAppId } }),
    );
  };
}
