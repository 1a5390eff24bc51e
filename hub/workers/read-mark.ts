import type { ChannelKind, Connector } from '../../connectors/core/types.js';
import { AuthError, PermanentError, RateLimitError } from '../../connectors/core/errors.js';
import type { Database, Queryable } from '../../storage/database.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation } from '../../storage/repositories/channels.js';
import { RetryLaterError, type Job } from '../queue/jobs.js';

interface Deps {
  db: Database;
  box: SecretBox;
  connectors: () => Map<ChannelKind, Connector>;
}

/**
 * `channel.read`: an agent opened or answered a conversation, so its customer's latest message is
 * marked read on the channel (WhatsApp: blue ticks, which cover every earlier message too). Once per
 * message (`metadata.readMarked`); a refusal is not worth an agent's attention, so only rate limits retry.
 */
export function readMarkHandler(deps: Deps) {
  return async (job: Job): Promise<void> => {
    const conversationId = String(job.payload.conversationId);
    const found = await withAccount(deps.db, job.accountId, async (tx) => {
      const last = (
        await tx.query<{ id: string; externalId: string; channelId: string; readMarked: boolean }>(
          `SELECT id, external_id AS "externalId", channel_id AS "channelId", metadata ? 'readMarked' AS "readMarked" FROM messages
           WHERE conversation_id = $1 AND direction = 'inbound' AND external_id IS NOT NULL ORDER BY sent_at DESC, created_at DESC LIMIT 1`,
          [conversationId],
        )
      ).rows[0];
      if (!last || last.readMarked) return undefined;
      return { last, channel: await getInstallation(tx, deps.box, last.channelId) };
    });
    if (!found?.channel) return;
    const connector = deps.connectors().get(found.channel.kind);
    if (!connector?.markRead) return;
    try {
      await connector.markRead(found.channel, found.last.externalId);
    } catch (err) {
      if (err instanceof RateLimitError) throw new RetryLaterError(err.message, err.retryAfterMs);
      if (err instanceof PermanentError || err instanceof AuthError) return;
      throw err;
    }
    await withAccount(deps.db, job.accountId, (tx) =>
      tx.query(`UPDATE messages SET metadata = metadata || jsonb_build_object('readMarked', now()) WHERE id = $1`, [found.last.id]),
    );
  };
}

/**
 * Queues a read mark when the conversation is on a channel that shows them (WhatsApp) and its
 * customer's latest message is not marked yet; true when one was queued.
 */
export async function enqueueReadMark(tx: Queryable, accountId: string, conversationId: string): Promise<boolean> {
  const { rows } = await tx.query<{ due: boolean }>(
    `SELECT NOT (m.metadata ? 'readMarked') AS due FROM conversations c JOIN channels ch ON ch.id = c.channel_id
       JOIN LATERAL (SELECT metadata FROM messages WHERE conversation_id = c.id AND direction = 'inbound' AND external_id IS NOT NULL ORDER BY sent_at DESC, created_at DESC LIMIT 1) m ON true
     WHERE c.id = $1 AND ch.kind = 'whatsapp'`,
    [conversationId],
  );
  if (!rows[0]?.due) return false;
  await enqueue(tx, accountId, 'channel.read', { conversationId });
  return true;
}
