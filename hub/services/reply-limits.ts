import type { Queryable } from '../../storage/database.js';
import type { OutboundTemplate } from '../../connectors/core/types.js';
import { whatsappWindowClosesAt } from '../../connectors/whatsapp/connector.js';
import { checkTemplateAgainst, checkWhatsAppOutbound } from '../../connectors/whatsapp/outbound.js';
import { findTemplate, listTemplates } from '../../storage/repositories/whatsapp-templates.js';
import { MESSENGER_MAX_FILE_BYTES, MESSENGER_MAX_TEXT, messengerMessagingType } from '../../connectors/messenger/connector.js';
import { checkWaWebOutbound, isAnimatedWebp } from '../../connectors/whatsapp/web/limits.js';
import { HubError } from '../errors.js';
import { humanAgentAllowed } from '../surfaces/channel-window.js';

/**
 * What a channel will refuse, refused before the reply is stored or queued, with a code the agent can
 * act on: nothing reaches the platform, and no failed message is left behind. The deliver job checks
 * again (a window can close while a reply waits in the queue).
 */
export async function checkReplyForChannel(
  tx: Queryable,
  conversation: { id: string; channelKind: string; channelId: string },
  input: { text: string; attachments?: { name: string; mimeType: string; content: Buffer }[]; uploads?: ReplyFile[]; isPrivate?: boolean; rich?: RichReply },
  now: Date = new Date(),
): Promise<void> {
  if (input.isPrivate) return;
  // Files sent inline and files uploaded beforehand (`uploadIds`) are held to the same limits.
  const files: ReplyFile[] = [...(input.attachments ?? []).map((a) => ({ name: a.name, mimeType: a.mimeType, size: a.content.length, animated: isAnimatedWebp(a.content) })), ...(input.uploads ?? [])];
  if (input.rich && conversation.channelKind !== 'whatsapp')
    throw new HubError(400, 'rich_reply_not_supported', `${conversation.channelKind} replies are text and files; buttons, lists, quotes, reactions and templates are WhatsApp's`);
  if (conversation.channelKind === 'messenger') return checkMessengerReply(tx, conversation.id, { text: input.text, files }, now);
  if (conversation.channelKind === 'whatsapp-web') {
    // A linked phone: WhatsApp's limit per file type (a sticker's, 100 KB or 500 KB animated, down to a document's 100 MB).
    const refusal = checkWaWebOutbound({ text: input.text, files });
    if (refusal) throw new HubError(400, refusal.code, refusal.message);
    return;
  }
  if (conversation.channelKind !== 'whatsapp') return;
  const rich = input.rich;
  const externalIdOf = async (messageId: string, code: string, what: string) => {
    const row = (await tx.query<{ externalId: string | null }>(`SELECT external_id AS "externalId" FROM messages WHERE id = $1 AND conversation_id = $2 AND NOT is_private`, [messageId, conversation.id])).rows[0];
    if (!row?.externalId) throw new HubError(400, code, `${what} is not a message of this conversation that WhatsApp knows`);
    return row.externalId;
  };
  const quoteExternalId = rich?.quoteMessageId ? await externalIdOf(rich.quoteMessageId, 'quote_not_found', 'the quoted message') : undefined;
  const reactTo = rich?.reaction ? await externalIdOf(rich.reaction.messageId, 'reaction_target_unknown', 'the message reacted to') : undefined;
  if (rich?.template) {
    const t = await findTemplate(tx, conversation.channelId, rich.template.name, rich.template.language);
    if (!t || t.status !== 'APPROVED')
      throw new HubError(400, 'whatsapp_template_not_found', `no approved template "${rich.template.name}" in ${rich.template.language} on this number${t ? ` (it is ${t.status.toLowerCase()})` : '; sync the templates if it was approved lately'}`);
    // Checked against what was synced: a template stored before its components were kept has only its body to go by.
    const components = t.components.length ? t.components : [{ type: 'BODY', text: t.body }];
    const mismatch = checkTemplateAgainst(components, rich.template);
    if (mismatch) throw new HubError(400, mismatch.code, `template "${t.name}": ${mismatch.message}`, mismatch.expected !== undefined ? { expected: mismatch.expected } : undefined);
  }
  const refusal = checkWhatsAppOutbound({
    text: input.text,
    attachments: files,
    ...(rich ? { rich: { ...(quoteExternalId ? { quoteExternalId } : {}), ...(rich.buttons ? { buttons: rich.buttons } : {}), ...(rich.list ? { list: rich.list } : {}), ...(rich.reaction ? { reaction: { externalId: reactTo!, emoji: rich.reaction.emoji } } : {}), ...(rich.template ? { template: rich.template } : {}) } } : {}),
  });
  if (refusal) throw new HubError(400, refusal.code, refusal.message);
  if (rich?.template) return;
  const closes = await whatsappWindow(tx, conversation.id);
  if (!closes || closes.getTime() <= now.getTime()) {
    // What the agent can send instead: the number's approved templates (POST …/template).
    const templates = (await listTemplates(tx, conversation.channelId)).filter((t) => t.status === 'APPROVED').map((t) => ({ name: t.name, language: t.language, params: t.params }));
    throw new HubError(
      400,
      'whatsapp_window_closed',
      `WhatsApp allows free text only within 24 hours of the customer's last message${closes ? ` (this window closed ${closes.toISOString()})` : ''}; send an approved template instead`,
      { closedAt: closes?.toISOString() ?? null, templates },
    );
  }
}

/** A file of a reply as the limits see it. */
export interface ReplyFile {
  name: string;
  mimeType: string;
  size: number;
  /** An animated WebP (a linked phone sends WebP as a sticker, whose limit is larger when animated). */
  animated?: boolean;
}

/** What a reply carries besides text and files (WhatsApp), naming our own message ids; stored as the message's `metadata.rich`. */
export interface RichReply {
  quoteMessageId?: string;
  buttons?: { id: string; title: string }[];
  list?: { button: string; sections: { title?: string; rows: { id: string; title: string; description?: string }[] }[] };
  reaction?: { messageId: string; emoji: string };
  template?: OutboundTemplate;
}

/** When the conversation's 24-hour WhatsApp window closes (closed already, or undefined when the customer never wrote). */
export async function whatsappWindow(tx: Queryable, conversationId: string): Promise<Date | undefined> {
  const { rows } = await tx.query<{ last: Date | string | null }>(
    `SELECT max(sent_at) AS last FROM messages WHERE conversation_id = $1 AND direction = 'inbound' AND external_id IS NOT NULL`,
    [conversationId],
  );
  const last = rows[0]?.last;
  return whatsappWindowClosesAt(last ? new Date(last).toISOString() : undefined);
}

/** Messenger: text up to 2,000 characters and files up to 25 MB, within 24 hours, or 7 days by a human agent (HUMAN_AGENT tag). */
async function checkMessengerReply(tx: Queryable, conversationId: string, input: { text: string; files: ReplyFile[] }, now: Date): Promise<void> {
  const length = [...input.text].length;
  if (length > MESSENGER_MAX_TEXT) throw new HubError(400, 'messenger_text_too_long', `Messenger takes at most ${MESSENGER_MAX_TEXT} characters; this reply has ${length}`);
  for (const { size } of input.files) {
    if (size > MESSENGER_MAX_FILE_BYTES) throw new HubError(400, 'messenger_file_too_large', `Messenger takes files up to ${MESSENGER_MAX_FILE_BYTES / 1024 / 1024} MB; one of these has ${(size / 1024 / 1024).toFixed(1)} MB`);
  }
  const { rows } = await tx.query<{ last: Date | string | null; config: Record<string, unknown> | null }>(
    `SELECT (SELECT max(sent_at) FROM messages WHERE conversation_id = c.id AND direction = 'inbound' AND external_id IS NOT NULL) AS last, ch.config
     FROM conversations c JOIN channels ch ON ch.id = c.channel_id WHERE c.id = $1`,
    [conversationId],
  );
  const last = rows[0]?.last;
  // The same rule the connector applies: a Page that may not use the HUMAN_AGENT tag has 24 hours only.
  const humanAgent = humanAgentAllowed(rows[0]?.config);
  const type = messengerMessagingType(last ? new Date(last).toISOString() : undefined, now, humanAgent);
  if (!('messaging_type' in type))
    throw new HubError(400, 'messenger_window_closed', `Messenger allows replies within 24 hours of the customer's last message${humanAgent ? ', or 7 days by a human agent' : ''}${type.closedAt ? ` (this window closed ${type.closedAt})` : ''}`, { closedAt: type.closedAt ?? null });
}
