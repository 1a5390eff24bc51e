import { Type, type Static } from 'typebox';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { visitorThreadKey } from '../../connectors/webchat/connector.js';
import { signAttachmentLink } from '../../connectors/webchat/tokens.js';
import type { Database, Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { getMessage, listMessages, type MessageRow } from '../../storage/repositories/messages.js';
import { Nullable, Uuid } from '../schemas.js';

/** What a visitor may see of a message: no notes, no internal ids, no delivery error text. */
export const PublicMessage = Type.Object({
  id: Uuid,
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]),
  authorName: Nullable(Type.String()),
  text: Type.String(),
  sentAt: Type.String(),
  deliveryStatus: Nullable(Type.String()),
  attachments: Type.Array(Type.Object({
    id: Uuid,
    kind: Type.String(),
    name: Nullable(Type.String()),
    mimeType: Nullable(Type.String()),
    size: Nullable(Type.Integer()),
    /** Path on the hub of a download link signed for this visitor; it expires (see ATTACHMENT_LINK_SECONDS). */
    url: Type.String(),
  })),
});
export type PublicMessageT = Static<typeof PublicMessage>;

const HISTORY_PAGE = 200;
/** A widget shows a chat, not an archive; older messages stay with the agents. */
const HISTORY_MAX = 1000;

/** A link lives a day; the widget fetches fresh ones with the history on every reconnect. */
const ATTACHMENT_LINK_SECONDS = 24 * 3600;

/** The visitor's download path of an attachment; expiry rounded to the hour so a page's links stay stable. */
export function attachmentPath(channel: ChannelInstallation, visitorId: string, attachmentId: string, now = Date.now()): string {
  const expires = Math.ceil((now / 1000 + ATTACHMENT_LINK_SECONDS) / 3600) * 3600;
  const sig = signAttachmentLink(channel.secrets.sessionSecret ?? '', channel.id, visitorId, attachmentId, expires);
  const q = new URLSearchParams({ visitorId, expires: String(expires), sig });
  return `/webchat/${encodeURIComponent(channel.externalKey)}/attachments/${attachmentId}?${q}`;
}

export const toPublicMessage = (m: MessageRow, channel: ChannelInstallation, visitorId: string): PublicMessageT => ({
  id: m.id,
  direction: m.direction,
  authorName: m.authorName,
  text: m.text,
  sentAt: new Date(m.sentAt).toISOString(),
  deliveryStatus: m.deliveryStatus,
  attachments: m.attachments.map((a) => ({ id: a.id, kind: a.kind, name: a.name, mimeType: a.mimeType, size: a.size, url: attachmentPath(channel, visitorId, a.id) })),
});

/** The one conversation a visitor may read; reads run as the channel's tenant. */
export async function findVisitorConversation(tx: Queryable, channel: ChannelInstallation, visitorId: string): Promise<string | undefined> {
  const { rows } = await tx.query<{ id: string }>(`SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2`, [
    channel.id,
    visitorThreadKey(channel, visitorId),
  ]);
  return rows[0]?.id;
}

export function visitorConversationId(db: Database, channel: ChannelInstallation, visitorId: string): Promise<string | undefined> {
  return withAccount(db, channel.accountId, (tx) => findVisitorConversation(tx, channel, visitorId));
}

export async function visitorHistory(db: Database, channel: ChannelInstallation, visitorId: string): Promise<PublicMessageT[]> {
  return withAccount(db, channel.accountId, async (tx) => {
    const conversationId = await findVisitorConversation(tx, channel, visitorId);
    if (!conversationId) return [];
    const items: PublicMessageT[] = [];
    let after: { sentAt: string; id: string } | undefined;
    for (let read = 0; read < HISTORY_MAX; read += HISTORY_PAGE) {
      const page = await listMessages(tx, conversationId, { limit: HISTORY_PAGE, after });
      for (const m of page) if (!m.isPrivate) items.push(toPublicMessage(m, channel, visitorId));
      const last = page[page.length - 1];
      if (page.length < HISTORY_PAGE || !last) break;
      after = { sentAt: new Date(last.sentAt).toISOString(), id: last.id };
    }
    return items;
  });
}

/** A message of the visitor's conversation as the visitor sees it; undefined for notes and other conversations. */
export function visitorMessage(db: Database, channel: ChannelInstallation, visitorId: string, conversationId: string, messageId: string): Promise<PublicMessageT | undefined> {
  return withAccount(db, channel.accountId, async (tx) => {
    const m = await getMessage(tx, messageId);
    return m && m.conversationId === conversationId && !m.isPrivate ? toPublicMessage(m, channel, visitorId) : undefined;
  });
}

/** The stored message of a resent client message id, looked up only inside the visitor's own conversation. */
export async function findVisitorMessageId(db: Database, channel: ChannelInstallation, conversationId: string, externalId: string): Promise<string | undefined> {
  return withAccount(db, channel.accountId, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT id FROM messages WHERE channel_id = $1 AND external_id = $2 AND conversation_id = $3`,
      [channel.id, externalId, conversationId],
    );
    return rows[0]?.id;
  });
}
