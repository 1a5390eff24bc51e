import type { ChannelKind, Connector, OutboundRich } from '../../connectors/core/types.js';
import type { Queryable } from '../../storage/database.js';
import { AuthError, NotSentError, PermanentError, RateLimitError, TransientError } from '../../connectors/core/errors.js';
import type { Database } from '../../storage/database.js';
import type { LocalBlobStore } from '../../storage/blob-store.js';
import type { SecretBox } from '../../storage/secret-box.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation } from '../../storage/repositories/channels.js';
import { conversationCc, getConversation } from '../../storage/repositories/conversations.js';
import { applyKeptWatermarks, applyPendingStatuses, getMessage, lockReceipts, setDelivery } from '../../storage/repositories/messages.js';
import { threadControl } from '../../storage/repositories/thread-control.js';
import type { EventBus } from '../realtime/events.js';
import { RetryLaterError, UnrecoverableJobError, type Job } from '../queue/jobs.js';

interface Deps {
  db: Database;
  box: SecretBox;
  bus: EventBus;
  blobs: LocalBlobStore;
  connectors: () => Map<ChannelKind, Connector>;
  maxAttempts: number;
}

/**
 * Sends one outbound message: queued → sending → sent | failed. A job that finds the message
 * already `sending` ran before and was cut off mid-send, so the outcome is unknown: it is marked
 * `unknown` for an agent to decide, unless the channel dedupes by our idempotency key.
 */
export function deliverHandler(deps: Deps) {
  return async (job: Job): Promise<void> => {
    const messageId = String(job.payload.messageId);
    const prepared = await withAccount(deps.db, job.accountId, async (tx) => {
      const message = await getMessage(tx, messageId);
      if (!message || message.isPrivate || message.direction !== 'outbound') return undefined;
      const conversation = await getConversation(tx, message.conversationId);
      const channel = await getInstallation(tx, deps.box, message.channelId);
      if (!conversation || !channel) return undefined;
      const connector = deps.connectors().get(channel.kind);
      if (message.deliveryStatus === 'sending' && !connector?.capabilities.idempotentSend) {
        await setDelivery(tx, messageId, { status: 'unknown', error: 'the send was interrupted; it may or may not have reached the customer', expect: ['sending'] });
        return { outcome: 'unknown' as const, message };
      }
      // `failed` is a verdict that it did not arrive, so an admin retrying the dead job may send it again.
      if (message.deliveryStatus !== 'queued' && message.deliveryStatus !== 'sending' && message.deliveryStatus !== 'failed') return undefined;
      const recipient = (
        await tx.query<{ externalId: string; address: string | null; displayName: string | null }>(
          `SELECT external_id AS "externalId", address, display_name AS "displayName" FROM contact_identities
           WHERE contact_id = $1 AND channel_id = $2 ORDER BY created_at LIMIT 1`,
          [conversation.contactId, channel.id],
        )
      ).rows[0];
      const lastInbound = (
        await tx.query<{ externalId: string; sentAt: Date | string }>(
          `SELECT external_id AS "externalId", sent_at AS "sentAt" FROM messages WHERE conversation_id = $1 AND direction = 'inbound' AND external_id IS NOT NULL
           ORDER BY sent_at DESC LIMIT 1`,
          [conversation.id],
        )
      ).rows[0];
      const inReplyTo = lastInbound?.externalId;
      const blobKeys = (
        await tx.query<{ name: string | null; mimeType: string | null; blobKey: string }>(
          `SELECT name, mime_type AS "mimeType", blob_key AS "blobKey" FROM attachments WHERE message_id = $1 AND blob_key IS NOT NULL`,
          [messageId],
        )
      ).rows;
      // Cc the agent set on this reply, else everyone copied on the conversation; Bcc only when set on the reply.
      const cc = addressList(message.metadata.cc) ?? (await conversationCc(tx, conversation.id));
      const bcc = addressList(message.metadata.bcc) ?? [];
      const control = await threadControl(tx, conversation.id);
      const rich = await richOf(tx, conversation.id, message.metadata.rich);
      await setDelivery(tx, messageId, { status: 'sending', expect: ['queued', 'sending', 'failed'] });
      return { outcome: 'send' as const, message, conversation, channel, connector, recipient, inReplyTo, lastInboundAt: lastInbound ? new Date(lastInbound.sentAt).toISOString() : undefined, blobKeys, cc, bcc, rich, control: control ? { owner: control.owner, appId: control.appId } : undefined };
    });
    if (!prepared) return;
    if (prepared.outcome === 'unknown') {
      deps.bus.publish(job.accountId, { type: 'message.updated', conversationId: prepared.message.conversationId, messageId, deliveryStatus: 'unknown' });
      return;
    }
    const { message, conversation, channel, connector, recipient } = prepared;
    const finish = async (status: 'sent' | 'failed' | 'queued', patch: { error?: string; externalId?: string; sentAt?: string } = {}) => {
      const watermarked = await withAccount(deps.db, job.accountId, async (tx) => {
        // Receipts that arrived before this send's id was stored (WhatsApp can be that quick) apply now; the
        // lock, taken first, keeps a receipt from being kept between this update and that look.
        if (patch.externalId) await lockReceipts(tx, channel.id);
        await setDelivery(tx, messageId, { status, error: patch.error ?? null, externalId: patch.externalId, sentAt: patch.sentAt, expect: ['sending'] });
        if (patch.externalId) await applyPendingStatuses(tx, channel.id, patch.externalId);
        // A delivery or read watermark (Messenger's) that came before this send was recorded.
        return patch.externalId && channel.kind === 'messenger' ? applyKeptWatermarks(tx, channel.id, conversation.threadKey, messageId) : undefined;
      });
      deps.bus.publish(job.accountId, { type: 'message.updated', conversationId: message.conversationId, messageId, deliveryStatus: watermarked ?? status, deliveryError: patch.error ?? null });
    };
    if (!connector) {
      await finish('failed', { error: `no connector is installed for ${channel.kind}` });
      throw new UnrecoverableJobError(`no connector for ${channel.kind}`);
    }
    if (!recipient) {
      await finish('failed', { error: 'the customer has no identity on this channel' });
      throw new UnrecoverableJobError('no recipient');
    }
    try {
      const attachments = await Promise.all(
        prepared.blobKeys.map(async (a) => ({ name: a.name ?? 'attachment', mimeType: a.mimeType ?? 'application/octet-stream', content: await deps.blobs.get(a.blobKey) })),
      );
      const sent = await connector.send({
        channel,
        conversation: { id: conversation.id, threadKey: conversation.threadKey, subject: conversation.subject ?? undefined, ...(prepared.control ? { control: prepared.control } : {}) },
        recipient: { externalId: recipient.externalId, address: recipient.address ?? undefined, displayName: recipient.displayName ?? undefined },
        author: { displayName: message.authorName ?? undefined },
        text: message.text,
        html: message.html ?? undefined,
        attachments,
        inReplyToExternalId: prepared.inReplyTo,
        ...(prepared.cc.length > 0 ? { cc: prepared.cc } : {}),
        ...(prepared.bcc.length > 0 ? { bcc: prepared.bcc } : {}),
        idempotencyKey: messageId,
        ...(prepared.lastInboundAt ? { lastInboundAt: prepared.lastInboundAt } : {}),
        ...(prepared.rich ? { rich: prepared.rich } : {}),
      });
      await finish('sent', { externalId: sent.externalId, sentAt: sent.sentAt });
    } catch (err) {
      if (err instanceof RateLimitError) {
        await finish('queued');
        throw new RetryLaterError(err.message, err.retryAfterMs);
      }
      if (err instanceof PermanentError || err instanceof AuthError) {
        await finish('failed', { error: err.message });
        throw new UnrecoverableJobError(err.message);
      }
      if (err instanceof TransientError && !(err instanceof NotSentError) && !connector.capabilities.idempotentSend) {
        // The request may have reached the channel: never resend blind.
        await withAccount(deps.db, job.accountId, (tx) => setDelivery(tx, messageId, { status: 'unknown', error: err.message, expect: ['sending'] }));
        deps.bus.publish(job.accountId, { type: 'message.updated', conversationId: message.conversationId, messageId, deliveryStatus: 'unknown', deliveryError: err.message });
        return;
      }
      // Failed before reaching the channel (or the channel dedupes): safe to try again, until attempts run out.
      const reason = err instanceof Error ? err.message : String(err);
      await finish(job.attempt >= deps.maxAttempts ? 'failed' : 'queued', { error: reason });
      throw err;
    }
  };
}

function addressList(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((a): a is string => typeof a === 'string') : undefined;
}

/**
 * The structured parts a reply was stored with (`metadata.rich`, naming our message ids) as the
 * connector takes them (the platform's ids). A quoted message without a platform id is sent unquoted.
 */
async function richOf(tx: Queryable, conversationId: string, stored: unknown): Promise<OutboundRich | undefined> {
  if (!stored || typeof stored !== 'object') return undefined;
  const r = stored as { quoteMessageId?: string; reaction?: { messageId: string; emoji: string } } & Omit<OutboundRich, 'quoteExternalId' | 'reaction'>;
  const externalIdOf = async (id: string | undefined) =>
    id ? (await tx.query<{ externalId: string | null }>(`SELECT external_id AS "externalId" FROM messages WHERE id = $1 AND conversation_id = $2`, [id, conversationId])).rows[0]?.externalId ?? undefined : undefined;
  const quote = await externalIdOf(r.quoteMessageId);
  const reactTo = r.reaction ? await externalIdOf(r.reaction.messageId) : undefined;
  return {
    ...(quote ? { quoteExternalId: quote } : {}),
    ...(r.buttons ? { buttons: r.buttons } : {}),
    ...(r.list ? { list: r.list } : {}),
    // A target without a platform id goes as an empty id: the connector refuses it with its code.
    ...(r.reaction ? { reaction: { externalId: reactTo ?? '', emoji: r.reaction.emoji } } : {}),
    ...(r.template ? { template: r.template } : {}),
  };
}
