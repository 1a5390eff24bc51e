import type { WebClient } from '@slack/web-api';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { ConnectorError, RateLimitError } from '../../connectors/core/errors.js';
import type { Surface } from '../ai-stage.js';
import { RetryLaterError } from '../queue/jobs.js';
import type { Database, Queryable } from '../../storage/database.js';
import type { SecretBox } from '../../storage/secret-box.js';
import type { LocalBlobStore } from '../../storage/blob-store.js';
import { withAccount } from '../../storage/session.js';
import { getConversation, type ConversationRow } from '../../storage/repositories/conversations.js';
import { listMessages, type MessageRow } from '../../storage/repositories/messages.js';
import { getChannel } from '../../storage/repositories/channels.js';
import { getUser } from '../../storage/repositories/users.js';
import { SlackClients, slackErrorCode, toConnectorError } from '../../connectors/slack/client.js';
import { slackConfig } from '../../connectors/slack/config.js';
import { hashBody, messageReply, movedCard, rootCard, type CardModel, type SlackMessageBody } from './blocks.js';
import { activeThread, clearPendingRoot, conversationFiles, markPendingRoot, insertThread, listSlackInstallations, lockConversation, nameSlackCustomer, proposedDraft, saveThread, slackOriginMessages, unnamedSlackCustomer, type SlackThreadData } from './store.js';
import { fetchSlackFiles } from './file-fetch.js';

export interface SlackSurfaceDeps {
  db: Database;
  box: SecretBox;
  clients: SlackClients;
  blobs: LocalBlobStore;
  /** Link to a conversation in the HummDesk UI. */
  conversationUrl: (conversationId: string) => string;
  now?: () => number;
  /** New outbox rows were committed (a file handed to the slack.files job). */
  onOutbox?: () => void;
}

/** Metadata on every root card: finds a card whose post was not recorded (see slack_pending_roots). */
export const ROOT_EVENT = 'hummdesk_conversation';

/** How long a users.info answer stands in for the customer's name. */
const NAME_TTL_MS = 60 * 60_000;

/**
 * Where a conversation's thread belongs: its team's triage channel, else its inbox's, else the
 * default one. The team comes first, so moving a conversation to another team moves its thread.
 */
export function triageTarget(installs: ChannelInstallation[], teamId: string | null, inboxId?: string): { install: ChannelInstallation; channel: string } | undefined {
  if (teamId)
    for (const install of installs) {
      const channel = slackConfig(install).triageChannels?.[teamId];
      if (channel) return { install, channel };
    }
  if (inboxId)
    for (const install of installs) {
      const channel = slackConfig(install).inboxTriageChannels?.[inboxId];
      if (channel) return { install, channel };
    }
  for (const install of installs) {
    const channel = slackConfig(install).defaultTriageChannel;
    if (channel) return { install, channel };
  }
  return undefined;
}

/**
 * Mirrors a conversation into Slack: one root card per conversation in its team's triage channel,
 * updated in place, and one thread reply per later message, updated as its delivery changes.
 * A sync holds the conversation's row lock, so concurrent syncs never post a root twice.
 */
export class SlackSurface implements Surface {
  readonly name = 'slack' as const;
  private readonly names = new Map<string, { name: string | undefined; at: number }>();
  constructor(private readonly deps: SlackSurfaceDeps) {}

  async sync(accountId: string, conversationId: string): Promise<void> {
    await this.nameCustomer(accountId, conversationId);
    await this.fetchSlackFiles(accountId, conversationId);
    const pending = await this.notePendingRoot(accountId, conversationId);
    let stopped: ConnectorError | undefined;
    await withAccount(this.deps.db, accountId, async (tx) => {
      if (!(await lockConversation(tx, conversationId))) return;
      const installs = await listSlackInstallations(tx, this.deps.box);
      if (!installs.length) return;
      const conversation = (await getConversation(tx, conversationId))!;
      let thread = await activeThread(tx, conversationId);
      const target = triageTarget(installs, conversation.teamId, conversation.channelId);
      const installOf = (id: string) => installs.find((i) => i.id === id);
      const model = await this.cardModel(tx, conversation, thread ? installOf(thread.data.installationId) ?? target?.install : target?.install);
      if (!model) return;
      try {
        if (thread && target && (thread.data.channel !== target.channel || thread.data.installationId !== target.install.id)) {
          // Moved to another team: mark the old root, open a new one that carries the history.
          const old = installOf(thread.data.installationId);
          if (old) await this.call(old, (c) => c.chat.update({ channel: thread!.data.channel, ts: thread!.data.ts, ...movedCard(model.card, target.channel) }));
          await saveThread(tx, thread.id, { ...thread.data, movedTo: target.channel }, false);
          thread = undefined;
        }
        if (!thread) {
          if (!target) return;
          const card = rootCard({ ...model.card, threadReplies: slackConfig(target.install).threadReplies ?? 'notes' });
          // An earlier attempt left its record: it may have posted the card before failing to record it.
          const suspectSince = pending?.channel === target.channel ? pending.suspectSince : undefined;
          const found = suspectSince ? await this.findPostedRoot(target.install, target.channel, conversationId, suspectSince) : undefined;
          const ts = found ?? (await this.post(target.install, target.channel, card, undefined, { event_type: ROOT_EVENT, event_payload: { conversation_id: conversationId } }));
          const first = customersFirst(model.messages, model.contactId);
          thread = await insertThread(tx, {
            accountId,
            conversationId,
            // A card found again is brought up to date below (no hash yet).
            data: { installationId: target.install.id, slackTeam: target.install.externalKey, channel: target.channel, ts, ...(found ? {} : { rootHash: hashBody(card) }), posted: first ? { [first.id]: { ts, state: 'root' } } : {} },
          });
          await clearPendingRoot(tx, conversationId, target.channel);
        }
        const data: SlackThreadData = { ...thread.data, posted: { ...thread.data.posted } };
        const install = installOf(data.installationId);
        if (!install) return;
        try {
          const card = rootCard({ ...model.card, threadReplies: slackConfig(install).threadReplies ?? 'notes' });
          const hash = hashBody(card);
          if (hash !== data.rootHash) {
            await this.call(install, (c) => c.chat.update({ channel: data.channel, ts: data.ts, ...card }));
            data.rootHash = hash;
          }
          const fromSlack = await slackOriginMessages(tx, conversationId);
          const files = await conversationFiles(tx, conversationId);
          // Files follow their message into the thread, once each; what was written in Slack has its files there already.
          const uploadFiles = async (messageId: string) => {
            const entry = data.posted[messageId];
            if (!entry || entry.state === 'skip' || fromSlack.has(messageId)) return;
            const list = files.get(messageId) ?? [];
            for (let i = entry.files ?? 0; i < list.length; i++) {
              const f = list[i]!;
              const content = await this.deps.blobs.get(f.blobKey);
              await this.call(install, (c) => c.filesUploadV2({ channel_id: data.channel, thread_ts: data.ts, file: content, filename: f.name, title: f.name }));
              entry.files = i + 1;
            }
          };
          for (const msg of model.messages) {
            const seen = data.posted[msg.id];
            if (seen?.state === 'root') {
              await uploadFiles(msg.id);
              continue;
            }
            const reply = messageReply(msg, conversation.channelKind, this.deps.conversationUrl(conversationId), fromSlack.has(msg.id));
            if (!reply) {
              data.posted[msg.id] = { ts: '', state: 'skip' };
              continue;
            }
            if (!seen) {
              const ts = await this.post(install, data.channel, reply.body, data.ts);
              data.posted[msg.id] = { ts, state: reply.state };
            } else if (seen.state !== reply.state && seen.ts) {
              await this.call(install, (c) => c.chat.update({ channel: data.channel, ts: seen.ts, ...reply.body }));
              data.posted[msg.id] = { ...seen, state: reply.state };
            }
            await uploadFiles(msg.id);
          }
        } finally {
          // Progress is kept even when Slack stops us halfway, so a retry never posts a reply twice.
          await saveThread(tx, thread.id, data);
        }
      } catch (err) {
        stopped = toConnectorError(err);
      }
    });
    if (stopped instanceof RateLimitError) throw new RetryLaterError(stopped.message, stopped.retryAfterMs);
    if (stopped) throw stopped;
  }

  /**
   * Before a root card is posted, a committed record says so (its own short transaction), so a
   * post whose recording transaction then fails is looked for instead of posted again.
   */
  private async notePendingRoot(accountId: string, conversationId: string): Promise<{ channel: string; suspectSince?: string } | undefined> {
    return withAccount(this.deps.db, accountId, async (tx) => {
      const installs = await listSlackInstallations(tx, this.deps.box);
      const conversation = installs.length ? await getConversation(tx, conversationId) : undefined;
      if (!conversation) return undefined;
      const target = triageTarget(installs, conversation.teamId, conversation.channelId);
      const thread = await activeThread(tx, conversationId);
      if (!target || (thread && thread.data.channel === target.channel && thread.data.installationId === target.install.id)) return undefined;
      const { suspectSince } = await markPendingRoot(tx, { accountId, conversationId, installationId: target.install.id, channel: target.channel });
      return { channel: target.channel, ...(suspectSince ? { suspectSince } : {}) };
    });
  }

  /** A root card of this conversation already in the channel (posted since `since`), found by its metadata. */
  private async findPostedRoot(install: ChannelInstallation, channel: string, conversationId: string, since: string): Promise<string | undefined> {
    const oldest = Math.floor(new Date(since).getTime() / 1000) - 60;
    const res = await this.client(install).conversations.history({ channel, oldest: String(oldest), include_all_metadata: true, limit: 200 });
    const hit = (res.messages ?? []).find((m) => m.metadata?.event_type === ROOT_EVENT && (m.metadata.event_payload as { conversation_id?: string } | undefined)?.conversation_id === conversationId);
    return hit?.ts;
  }

  /** A Slack customer whose event carried no user_profile gets their name from users.info (cached), outside any transaction. */
  private async nameCustomer(accountId: string, conversationId: string): Promise<void> {
    const found = await withAccount(this.deps.db, accountId, async (tx) => {
      const who = await unnamedSlackCustomer(tx, conversationId);
      if (!who) return undefined;
      const install = (await listSlackInstallations(tx, this.deps.box)).find((i) => i.id === who.installationId);
      return install ? { who, install } : undefined;
    });
    if (!found) return;
    const name = await this.slackUserName(found.install, found.who.slackUserId);
    if (name) await withAccount(this.deps.db, accountId, (tx) => nameSlackCustomer(tx, found.who, name));
  }

  private async slackUserName(install: ChannelInstallation, slackUserId: string): Promise<string | undefined> {
    const now = (this.deps.now ?? Date.now)();
    const key = `${install.externalKey}:${slackUserId}`;
    const cached = this.names.get(key);
    if (cached && now - cached.at < NAME_TTL_MS) return cached.name;
    // Only Slack's answers are cached (user_not_found is one): a failure (a 429 included) leaves "Customer" on the card until a later sync asks again.
    const info = await this.client(install).users.info({ user: slackUserId }).catch((err: unknown) => (slackErrorCode(err) === 'user_not_found' ? null : undefined));
    if (info === undefined) return undefined;
    const profile = info?.user?.profile;
    const name = (profile?.real_name || profile?.display_name || info?.user?.real_name || info?.user?.name || undefined)?.slice(0, 200);
    if (this.names.size >= 10_000) this.names.clear();
    this.names.set(key, { name, at: now });
    return name;
  }

  /** Customers' Slack files into the blob store, outside any transaction (hub/slack/file-fetch.ts: a failure is recorded, retried by a job). */
  private async fetchSlackFiles(accountId: string, conversationId: string): Promise<void> {
    await fetchSlackFiles({ ...this.deps, maxAttempts: 1 }, accountId, conversationId);
  }

  private async cardModel(tx: Queryable, c: ConversationRow, install: ChannelInstallation | undefined) {
    if (!install) return undefined;
    const messages = await listMessages(tx, c.id, { limit: 1000 });
    const first = customersFirst(messages, c.contactId);
    const source = await getChannel(tx, c.channelId);
    const assignee = c.assigneeId ? await getUser(tx, c.assigneeId) : undefined;
    const draft = await proposedDraft(tx, c.id);
    const card: CardModel = {
      conversationId: c.id,
      ref: c.id.slice(0, 8),
      url: this.deps.conversationUrl(c.id),
      subject: c.subject,
      status: c.status,
      priority: c.priority,
      category: c.category,
      sentiment: c.sentiment,
      language: c.language,
      confidence: c.confidence,
      snoozedUntil: c.snoozedUntil ? new Date(c.snoozedUntil).toISOString() : null,
      customer: c.contactName ?? first?.authorName ?? 'Customer',
      source: { kind: c.channelKind, name: source?.name ?? c.channelKind },
      firstLines: first?.text ?? '',
      assignee: assignee?.name ?? null,
      threadReplies: 'notes',
      ...(draft ? { draft: { id: draft.id, text: draft.text, extractive: draft.extractive, citations: (draft.citations ?? []) as NonNullable<CardModel['draft']>['citations'] } } : {}),
    };
    return { card, messages, contactId: c.contactId };
  }

  /** Posts into a channel, joining it first when the bot is not a member yet. */
  private async post(install: ChannelInstallation, channel: string, body: SlackMessageBody, threadTs?: string, metadata?: { event_type: string; event_payload: Record<string, string> }): Promise<string> {
    const args = { channel, ...body, ...(threadTs ? { thread_ts: threadTs } : {}), ...(metadata ? { metadata } : {}), unfurl_links: false, unfurl_media: false };
    const client = this.client(install);
    try {
      return String((await client.chat.postMessage(args)).ts);
    } catch (err) {
      if (slackErrorCode(err) !== 'not_in_channel') throw err;
      await client.conversations.join({ channel });
      return String((await client.chat.postMessage(args)).ts);
    }
  }

  private async call<T>(install: ChannelInstallation, fn: (c: WebClient) => Promise<T>): Promise<T> {
    return fn(this.client(install));
  }

  private client(install: ChannelInstallation): WebClient {
    return this.deps.clients.for(install.secrets.botToken);
  }
}

/** The customer's own first message: not a notice, nor someone who joined the thread (whose Date may be earlier). */
function customersFirst(messages: MessageRow[], contactId: string): MessageRow | undefined {
  const inbound = messages.filter((m) => m.direction === 'inbound' && m.authorKind === 'contact');
  return inbound.find((m) => !m.sender || m.sender.contactId === contactId) ?? inbound[0];
}
