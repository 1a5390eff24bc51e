import type { Database } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { conversationCc, getConversation, rememberCc, setConversationCc, updateConversation, wakeIfDue, type ConversationRow, type ConversationStatus, type Priority } from '../../storage/repositories/conversations.js';
import { getMessage, insertAttachments, insertMessage, type MessageRow } from '../../storage/repositories/messages.js';
import { decideDraft, getDraft, retireDrafts } from '../../storage/repositories/ai.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { audit } from '../../storage/repositories/audit.js';
import { threadControl } from '../../storage/repositories/thread-control.js';
import type { LocalBlobStore, WrittenBlob } from '../../storage/blob-store.js';
import { claimUploads, pendingUploads, referencedBlobKeys } from '../../storage/repositories/uploads.js';
import type { EventBus, HubEvent } from '../realtime/events.js';
import type { JobRunner } from '../queue/jobs.js';
import { HubError, notFound } from '../errors.js';
import { checkReplyForChannel, type RichReply } from './reply-limits.js';
import { isAnimatedWebp, waWebMediaType, WA_WEB_MEDIA_MAX } from '../../connectors/whatsapp/web/limits.js';
import { enqueueReadMark } from '../workers/read-mark.js';

/** Who is acting: an agent (user), an integration (API key), or the AI stage's auto-send; every change is audited with it. */
export interface Actor {
  accountId: string;
  kind: 'user' | 'api_key' | 'system' | 'ai';
  id: string | null;
}

export interface ReplyInput {
  text: string;
  html?: string;
  /** A note stays inside the hub and never reaches the customer. */
  isPrivate?: boolean;
  attachments?: { name: string; mimeType: string; content: Buffer }[];
  /** Files this actor uploaded for the conversation beforehand (POST …/uploads), attached in this order. */
  uploadIds?: string[];
  /** Sending an AI draft as is or edited records the decision for the learning loop. */
  draftId?: string;
  /** Email: who this reply copies; it becomes the conversation's Cc list (absent: the list as it is). */
  cc?: string[];
  /** Email: blind copies of this reply only. */
  bcc?: string[];
  /** WhatsApp: a quote, buttons, a list, a reaction or a template (checked against the channel's limits first). */
  rich?: RichReply;
  /** Written by the agent in a Slack or Teams thread: that thread shows the text already, so its mirror only acknowledges it. */
  writtenIn?: 'slack' | 'teams';
}

/** Who an agent's upload belongs to: only the same user or API key can send it. */
export const uploaderOf = (actor: Actor): string => `${actor.kind}:${actor.id ?? 'system'}`;

/** Agent actions on conversations; each is one transaction plus its outbox rows and realtime events. */
export class ConversationService {
  constructor(
    private readonly db: Database,
    private readonly deps: { bus: EventBus; runner: () => JobRunner; blobs: LocalBlobStore },
  ) {}

  async reply(actor: Actor, conversationId: string, input: ReplyInput): Promise<MessageRow> {
    if (!input.text.trim() && !input.attachments?.length && !input.uploadIds?.length && !input.rich?.reaction) throw new HubError(400, 'reply_empty', 'a reply needs text or an attachment');
    const events: HubEvent[] = [];
    const written: WrittenBlob[] = [];
    const message = await withAccount(this.db, actor.accountId, async (tx) => {
      const conversation = await getConversation(tx, conversationId);
      if (!conversation) throw notFound('conversation');
      const copies = input.isPrivate ? {} : copiesOf(input);
      if (Object.keys(copies).length > 0 && conversation.channelKind !== 'email') throw new HubError(400, 'cc_not_supported', `${conversation.channelKind} replies cannot copy anyone; Cc and Bcc are for email`);
      const uploads = input.uploadIds?.length && !input.isPrivate ? await pendingUploads(tx, { channelId: conversation.channelId, uploader: uploaderOf(actor), ids: [...new Set(input.uploadIds)], byAgent: true }) : [];
      await checkReplyForChannel(tx, conversation, { ...input, uploads: await this.withStickerHeads(conversation.channelKind, uploads) });
      if (input.draftId) await this.recordDraftUse(tx, actor, conversationId, input.draftId, input.text);
      // An answer written by hand retires the open drafts: they answer a question that is now answered.
      else if (!input.isPrivate) await retireDrafts(tx, conversationId);
      // Bytes are written only once the reply is known to be allowed, and each distinct file once.
      const blobs = await this.writeAttachments(input.attachments ?? [], written);
      if (copies.cc) await setConversationCc(tx, conversationId, copies.cc);
      const inserted = await insertMessage(tx, {
        accountId: actor.accountId,
        conversationId,
        channelId: conversation.channelId,
        direction: 'outbound',
        authorKind: actor.kind === 'user' ? 'agent' : actor.kind === 'ai' ? 'ai' : 'system',
        authorUserId: actor.kind === 'user' ? actor.id : null,
        isPrivate: input.isPrivate ?? false,
        // A reaction shows as its emoji in the conversation.
        text: input.rich?.reaction && !input.text.trim() ? input.rich.reaction.emoji : input.text,
        html: input.html,
        deliveryStatus: input.isPrivate ? null : 'queued',
        metadata: { ...(actor.kind === 'api_key' ? { apiKeyId: actor.id } : {}), ...copies, ...(input.rich && !input.isPrivate ? { rich: input.rich } : {}), ...(input.writtenIn ? { writtenIn: input.writtenIn } : {}) },
      });
      const id = inserted!.id;
      if (blobs.length)
        await insertAttachments(tx, actor.accountId, id, blobs.map((b) => ({ kind: b.mimeType.startsWith('image/') ? 'image' : 'file', name: b.name, mimeType: b.mimeType, size: b.content.length, blobKey: b.blobKey })));
      if (input.uploadIds?.length) {
        const ids = [...new Set(input.uploadIds)];
        const claimed = await claimUploads(tx, { channelId: conversation.channelId, uploader: uploaderOf(actor), messageId: id, ids, byAgent: true });
        if (!claimed) throw new HubError(400, 'upload_unknown', 'an upload is unknown, was made for another conversation or by someone else, or was already sent');
        await insertAttachments(tx, actor.accountId, id, claimed);
      }
      if (!input.isPrivate) {
        await enqueue(tx, actor.accountId, 'deliver', { messageId: id });
        // Answering shows the customer their messages were read (WhatsApp's blue ticks).
        if (conversation.channelKind === 'whatsapp') await enqueueReadMark(tx, actor.accountId, conversationId);
        await tx.query(`UPDATE conversations SET last_message_at = now(), updated_at = now(), status = CASE WHEN status = 'open' THEN 'pending' ELSE status END WHERE id = $1`, [conversationId]);
      }
      await enqueue(tx, actor.accountId, 'surface.sync', { conversationId, messageId: id });
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: input.isPrivate ? 'conversation.note' : 'conversation.reply', targetKind: 'message', targetId: id });
      events.push({ type: 'message.created', conversationId, messageId: id, direction: 'outbound', isPrivate: input.isPrivate ?? false });
      return (await getMessage(tx, id))!;
    }).catch(async (err: unknown) => {
      await this.discardAttachments(written);
      throw err;
    });
    this.afterCommit(actor.accountId, events);
    return message;
  }

  /** A linked phone sends WebP as a sticker, whose limit depends on whether it is animated: that is in the file's first bytes. */
  private async withStickerHeads<U extends { mimeType: string; size: number; blobKey: string }>(channelKind: string, uploads: U[]): Promise<(U & { animated?: boolean })[]> {
    if (channelKind !== 'whatsapp-web') return uploads;
    return Promise.all(uploads.map(async (u) => (waWebMediaType(u.mimeType) === 'sticker' && u.size <= WA_WEB_MEDIA_MAX.animatedSticker ? { ...u, animated: isAnimatedWebp(await this.deps.blobs.get(u.blobKey)) } : u)));
  }

  private async writeAttachments(attachments: NonNullable<ReplyInput['attachments']>, written: WrittenBlob[]) {
    const distinct: Buffer[] = [];
    for (const a of attachments) if (!distinct.some((d) => d.equals(a.content))) distinct.push(a.content);
    // Every write settles before an error is thrown, so discardAttachments() sees all that were made.
    const results = await Promise.allSettled(distinct.map((content) => this.deps.blobs.write(content)));
    for (const r of results) if (r.status === 'fulfilled') written.push(r.value);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const keys = results.map((r) => (r as PromiseFulfilledResult<WrittenBlob>).value.key);
    return attachments.map((a) => ({ ...a, blobKey: keys[distinct.findIndex((d) => d.equals(a.content))]! }));
  }

  /** A reply that did not commit takes back the bytes it wrote, unless something else stored or names them. */
  private async discardAttachments(written: WrittenBlob[]): Promise<void> {
    const created = written.filter((w) => w.created);
    if (!created.length) return;
    try {
      // Owner connection: bytes are shared by content across accounts.
      const named = await referencedBlobKeys(this.db, created.map((w) => w.key));
      for (const w of created) if (!named.has(w.key)) await this.deps.blobs.discard(w);
    } catch {
      // The reply's own error is what the caller needs; bytes left here are only disk space.
    }
  }

  private async recordDraftUse(tx: Parameters<Parameters<Database['transaction']>[0]>[0], actor: Actor, conversationId: string, draftId: string, text: string) {
    const draft = await getDraft(tx, draftId);
    if (!draft || draft.conversationId !== conversationId) throw notFound('draft');
    const status = draft.text.trim() === text.trim() ? 'accepted' : 'edited';
    const ok = await decideDraft(tx, draftId, { status, finalText: text, userId: actor.kind === 'user' ? actor.id : null });
    if (!ok) throw new HubError(409, 'draft_already_decided', 'this draft was already accepted, edited or rejected');
  }

  async rejectDraft(actor: Actor, conversationId: string, draftId: string): Promise<void> {
    await withAccount(this.db, actor.accountId, async (tx) => {
      const draft = await getDraft(tx, draftId);
      if (!draft || draft.conversationId !== conversationId) throw notFound('draft');
      if (!(await decideDraft(tx, draftId, { status: 'rejected', finalText: null, userId: actor.kind === 'user' ? actor.id : null })))
        throw new HubError(409, 'draft_already_decided', 'this draft was already accepted, edited or rejected');
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'draft.rejected', targetKind: 'draft', targetId: draftId });
    });
  }

  async assign(actor: Actor, conversationId: string, to: { assigneeId?: string | null; teamId?: string | null }): Promise<ConversationRow> {
    return this.change(actor, conversationId, 'conversation.assigned', async (tx) => {
      if (to.assigneeId) {
        const user = await tx.query(`SELECT 1 FROM users WHERE id = $1`, [to.assigneeId]);
        if (!user.rowCount) throw notFound('user');
      }
      if (to.teamId) {
        const team = await tx.query(`SELECT 1 FROM teams WHERE id = $1`, [to.teamId]);
        if (!team.rowCount) throw notFound('team');
      }
      return { assigneeId: to.assigneeId, teamId: to.teamId };
    });
  }

  async setStatus(actor: Actor, conversationId: string, status: ConversationStatus, snoozedUntil?: string): Promise<ConversationRow> {
    if (status === 'snoozed' && !snoozedUntil) throw new HubError(400, 'snooze_until_required', 'snoozing needs an until time');
    return this.change(actor, conversationId, 'conversation.status', async (tx) => {
      if (status === 'resolved') {
        await retireDrafts(tx, conversationId);
        // We took the platform's thread to answer (Messenger handover): it goes back to whoever had it.
        const control = await threadControl(tx, conversationId);
        if (control?.owner === 'us' && control.previousAppId) await enqueue(tx, actor.accountId, 'channel.handback', { conversationId });
      }
      return { status, snoozedUntil: status === 'snoozed' ? snoozedUntil! : null };
    });
  }

  /** Replaces the conversation's tags (trimmed, lower-cased, each once). */
  async setTags(actor: Actor, conversationId: string, tags: string[]): Promise<ConversationRow> {
    const clean = [...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean))];
    return this.change(actor, conversationId, 'conversation.tags', async () => ({ tags: clean }));
  }

  /** A snoozed conversation whose time came opens again (unless it was snoozed anew meanwhile). */
  async wakeSnoozed(accountId: string, conversationId: string): Promise<boolean> {
    const events: HubEvent[] = [];
    const woke = await withAccount(this.db, accountId, async (tx) => {
      if (!(await wakeIfDue(tx, conversationId))) return false;
      await audit(tx, { accountId, actorKind: 'system', actorId: null, action: 'conversation.woken', targetKind: 'conversation', targetId: conversationId });
      await enqueue(tx, accountId, 'surface.sync', { conversationId });
      events.push({ type: 'conversation.updated', conversationId, changes: { status: 'open', snoozedUntil: null } });
      return true;
    });
    this.afterCommit(accountId, events);
    return woke;
  }

  async setPriority(actor: Actor, conversationId: string, priority: Priority): Promise<ConversationRow> {
    return this.change(actor, conversationId, 'conversation.priority', async () => ({ priority }));
  }

  /**
   * Email: copies someone on the conversation's later replies (its Cc list), e.g. after they joined
   * the thread by answering a message; the conversation's contact is already its recipient.
   */
  async addParticipant(actor: Actor, conversationId: string, address: string): Promise<{ cc: string[] }> {
    const normalized = address.trim().toLowerCase();
    const events: HubEvent[] = [];
    const cc = await withAccount(this.db, actor.accountId, async (tx) => {
      const conversation = await getConversation(tx, conversationId);
      if (!conversation) throw notFound('conversation');
      if (conversation.channelKind !== 'email') throw new HubError(400, 'cc_not_supported', `${conversation.channelKind} conversations cannot copy anyone; Cc is for email`);
      await rememberCc(tx, conversationId, [normalized]);
      const list = await conversationCc(tx, conversationId);
      if (!list.some((a) => a.toLowerCase() === normalized)) throw new HubError(409, 'cc_list_full', 'the Cc list is full; remove someone with a reply that sets cc first');
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action: 'conversation.participant_added', targetKind: 'conversation', targetId: conversationId, data: { address: normalized } });
      events.push({ type: 'conversation.updated', conversationId, changes: { cc: list } });
      return list;
    });
    this.afterCommit(actor.accountId, events);
    return { cc };
  }

  private async change(
    actor: Actor,
    conversationId: string,
    action: string,
    patchOf: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<Parameters<typeof updateConversation>[2]>,
  ): Promise<ConversationRow> {
    const events: HubEvent[] = [];
    const row = await withAccount(this.db, actor.accountId, async (tx) => {
      // The update says whether the conversation exists (one read fewer on every change); a refusal of the
      // patch (an unknown user or team) still names a missing conversation first.
      const patch = await patchOf(tx).catch(async (err: unknown) => {
        throw (await getConversation(tx, conversationId)) ? err : notFound('conversation');
      });
      const updated = await updateConversation(tx, conversationId, patch);
      if (!updated) throw notFound('conversation');
      await audit(tx, { accountId: actor.accountId, actorKind: actor.kind, actorId: actor.id, action, targetKind: 'conversation', targetId: conversationId, data: patch as Record<string, unknown> });
      await enqueue(tx, actor.accountId, 'surface.sync', { conversationId });
      events.push({ type: 'conversation.updated', conversationId, changes: patch as Record<string, unknown> });
      return updated;
    });
    this.afterCommit(actor.accountId, events);
    return row;
  }

  private afterCommit(accountId: string, events: HubEvent[]): void {
    for (const e of events) this.deps.bus.publish(accountId, e);
    this.deps.runner().kick();
  }
}

/** The reply's Cc and Bcc lower-cased and each address once; an absent list stays absent, an empty one means nobody. */
function copiesOf(input: ReplyInput): { cc?: string[]; bcc?: string[] } {
  const norm = (list: string[]) => [...new Set(list.map((a) => a.trim().toLowerCase()))];
  return { ...(input.cc ? { cc: norm(input.cc) } : {}), ...(input.bcc ? { bcc: norm(input.bcc) } : {}) };
}
