import type { ChannelInstallation, NormalizedMessage } from '../../connectors/core/types.js';
import type { Queryable } from '../../storage/database.js';
import { insertMessage } from '../../storage/repositories/messages.js';
import { enqueue } from '../../storage/repositories/outbox.js';

/**
 * Our own people writing on the platform itself (a whatsapp-web linked phone used by hand): our side
 * of the customer's conversation, already sent, never a customer and never answered. Recorded only in
 * a conversation that exists (a chat the phone starts with someone new is not a support conversation).
 * Returns undefined when there is no such conversation or the message is stored already.
 */
export async function recordStaffMessage(tx: Queryable, channel: ChannelInstallation, m: NormalizedMessage): Promise<{ conversationId: string; messageId: string } | undefined> {
  const { rows } = await tx.query<{ id: string }>(`SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2`, [channel.id, m.threadKey]);
  const conversationId = rows[0]?.id;
  if (!conversationId) return undefined;
  const inserted = await insertMessage(tx, {
    accountId: channel.accountId, conversationId, channelId: channel.id, direction: 'outbound', authorKind: 'agent', authorUserId: null,
    text: m.text, externalId: m.externalId, inReplyTo: m.inReplyToExternalId ?? null, deliveryStatus: 'sent', sentAt: m.sentAt,
    metadata: { staff: { externalId: m.sender.externalId, name: m.sender.displayName ?? null }, ...(m.details ? { details: m.details } : {}) },
  });
  if (!inserted) return undefined;
  // Our side answered: like a reply, an open conversation now waits on the customer.
  await tx.query(
    `UPDATE conversations SET last_message_at = greatest(last_message_at, $2::timestamptz), updated_at = now(), status = CASE WHEN status = 'open' THEN 'pending' ELSE status END WHERE id = $1`,
    [conversationId, m.sentAt],
  );
  await enqueue(tx, channel.accountId, 'surface.sync', { conversationId, messageId: inserted.id });
  return { conversationId, messageId: inserted.id };
}
