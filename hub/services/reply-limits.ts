import type { Queryable } from '../../storage/database.js';
import { WHATSAPP_MAX_TEXT, whatsappWindowClosesAt } from '../../connectors/whatsapp/connector.js';
import { MESSENGER_MAX_FILE_BYTES, MESSENGER_MAX_TEXT, messengerMessagingType } from '../../connectors/messenger/connector.js';
import { HubError } from '../errors.js';

/**
 * What a channel will refuse, refused before the reply is stored or queued, with a code the agent can
 * act on: nothing reaches the platform, and no failed message is left behind. The deliver job checks
 * again (a window can close while a reply waits in the queue).
 */
export async function checkReplyForChannel(
  tx: Queryable,
  conversation: { id: string; channelKind: string },
  input: { text: string; attachments?: unknown[]; isPrivate?: boolean },
  now: Date = new Date(),
): Promise<void> {
  if (input.isPrivate) return;
  if (conversation.channelKind === 'messenger') return checkMessengerReply(tx, conversation.id, input, now);
  if (conversation.channelKind !== 'whatsapp') return;
  const length = [...input.text].length;
  if (length > WHATSAPP_MAX_TEXT) throw new HubError(400, 'whatsapp_text_too_long', `WhatsApp takes at most ${WHATSAPP_MAX_TEXT} characters; this reply has ${length}`);
  if (input.attachments?.length) throw new HubError(400, 'whatsapp_attachments_unsupported', 'sending files to WhatsApp is not supported yet; send text');
  const { rows } = await tx.query<{ last: Date | string | null }>(
    `SELECT max(sent_at) AS last FROM messages WHERE conversation_id = $1 AND direction = 'inbound' AND external_id IS NOT NULL`,
    [conversation.id],
  );
  const last = rows[0]?.last;
  const closes = whatsappWindowClosesAt(last ? new Date(last).toISOString() : undefined);
  if (!closes || closes.getTime() <= now.getTime())
    throw new HubError(
      400,
      'whatsapp_window_closed',
      `WhatsApp allows free text only within 24 hours of the customer's last message${closes ? ` (this window closed ${closes.toISOString()})` : ''}; send an approved template instead`,
      { closedAt: closes?.toISOString() ?? null },
    );
}

/** Messenger: text up to 2,000 characters and files up to 25 MB, within 24 hours, or 7 days by a human agent (HUMAN_AGENT tag). */
async function checkMessengerReply(tx: Queryable, conversationId: string, input: { text: string; attachments?: unknown[] }, now: Date): Promise<void> {
  const length = [...input.text].length;
  if (length > MESSENGER_MAX_TEXT) throw new HubError(400, 'messenger_text_too_long', `Messenger takes at most ${MESSENGER_MAX_TEXT} characters; this reply has ${length}`);
  for (const a of input.attachments ?? []) {
    const size = (a as { content?: Buffer }).content?.length ?? 0;
    if (size > MESSENGER_MAX_FILE_BYTES) throw new HubError(400, 'messenger_file_too_large', `Messenger takes files up to ${MESSENGER_MAX_FILE_BYTES / 1024 / 1024} MB; one of these has ${(size / 1024 / 1024).toFixed(1)} MB`);
  }
  const { rows } = await tx.query<{ last: Date | string | null }>(
    `SELECT max(sent_at) AS last FROM messages WHERE conversation_id = $1 AND direction = 'inbound' AND external_id IS NOT NULL`,
    [conversationId],
  );
  const last = rows[0]?.last;
  const type = messengerMessagingType(last ? new Date(last).toISOString() : undefined, now);
  if (!('messaging_type' in type))
    throw new HubError(400, 'messenger_window_closed', `Messenger allows replies within 24 hours of the customer's last message, or 7 days by a human agent${type.closedAt ? ` (this window closed ${type.closedAt})` : ''}`, { closedAt: type.closedAt ?? null });
}
