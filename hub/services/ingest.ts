import type { ChannelInstallation, InboundEvent, NormalizedMessage } from '../../connectors/core/types.js';
import type { Database, Queryable } from '../../storage/database.js';
import type { LocalBlobStore } from '../../storage/blob-store.js';
import { setAccount } from '../../storage/session.js';
import { resolveContactIdentity } from '../../storage/repositories/contacts.js';
import { rememberCc, reopenConversation, resolveConversation, touchConversation } from '../../storage/repositories/conversations.js';
import { applyDeliveryStatus, insertAttachments, insertMessage } from '../../storage/repositories/messages.js';
import { enqueueMany } from '../../storage/repositories/outbox.js';
import { claimUploads } from '../../storage/repositories/uploads.js';
import { UPLOAD_REF_PREFIX } from '../../connectors/webchat/connector.js';
import type { EventBus, HubEvent } from '../realtime/events.js';
import type { HubMetrics } from '../metrics.js';
import { HubError } from '../errors.js';

export type IngestResult = 'created' | 'duplicate' | 'echo' | 'status' | 'status_unmatched' | 'ignored';

export interface IngestOutcome {
  result: IngestResult;
  conversationId?: string;
  messageId?: string;
  conversationCreated?: boolean;
}

interface Pending {
  channel: ChannelInstallation;
  events: InboundEvent[];
  startedAt: bigint;
  resolve: (o: IngestOutcome[]) => void;
  reject: (e: unknown) => void;
}

interface Settled {
  p: Pending;
  outcomes?: IngestOutcome[];
  error?: unknown;
  events: HubEvent[];
}

/** One queue with at most one transaction in flight; a thread always maps to the same lane. */
interface Lane {
  waiting: Pending[];
  busy: boolean;
}

/**
 * The one way a message enters the store. Calls that arrive while a lane's commit is in flight are
 * grouped into its next transaction (group commit); each call resolves only after its COMMIT.
 * A conversation's calls always share a lane, so concurrent transactions never wait on each
 * other's conversation rows (nor deadlock over them).
 */
export class IngestService {
  private readonly lanes: Lane[];

  constructor(
    private readonly db: Database,
    private readonly deps: {
      bus: EventBus;
      metrics: HubMetrics;
      blobs: LocalBlobStore;
      batchMax: number;
      concurrency: number;
      /** Called after each commit that wrote outbox rows, so the relay need not wait for its poll. */
      onOutbox: () => void;
    },
  ) {
    this.lanes = Array.from({ length: Math.max(1, deps.concurrency) }, () => ({ waiting: [], busy: false }));
  }

  ingest(channel: ChannelInstallation, events: InboundEvent[]): Promise<IngestOutcome[]> {
    try {
      for (const e of events) checkEvent(channel, e);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const lane = this.lanes[laneOf(channel, events, this.lanes.length)]!;
      lane.waiting.push({ channel, events, startedAt: process.hrtime.bigint(), resolve, reject });
      this.pump(lane);
    });
  }

  private pump(lane: Lane): void {
    if (lane.busy || lane.waiting.length === 0) return;
    const batch = lane.waiting.splice(0, this.deps.batchMax);
    lane.busy = true;
    void this.flush(batch).finally(() => {
      lane.busy = false;
      this.pump(lane);
    });
  }

  /**
   * Commits a batch in one transaction. If anything in it fails, each call is retried in its own
   * transaction, so one bad event fails only its own request and the rest still commit.
   */
  private async flush(batch: Pending[]): Promise<void> {
    let settled: Settled[];
    try {
      settled = await this.commit(batch);
    } catch {
      settled = [];
      for (const p of batch) {
        try {
          settled.push(...(await this.commit([p])));
        } catch (error) {
          settled.push({ p, error, events: [] });
        }
      }
    }
    this.deps.metrics.ingestBatchSize.observe(batch.length);
    let wroteOutbox = false;
    for (const s of settled) {
      const kind = s.p.channel.kind;
      this.deps.metrics.ingestSeconds.observe({ kind }, Number(process.hrtime.bigint() - s.p.startedAt) / 1e9);
      if (s.error !== undefined) {
        this.deps.metrics.ingested.inc({ kind, result: 'error' });
        s.p.reject(s.error);
        continue;
      }
      for (const o of s.outcomes!) {
        this.deps.metrics.ingested.inc({ kind, result: o.result });
        if (o.result === 'created') wroteOutbox = true;
      }
      for (const e of s.events) this.deps.bus.publish(s.p.channel.accountId, e);
      s.p.resolve(s.outcomes!);
    }
    if (wroteOutbox) this.deps.onOutbox();
  }

  private commit(batch: Pending[]): Promise<Settled[]> {
    return this.db.transaction(async (tx) => {
      const settled: Settled[] = [];
      let account: string | undefined;
      for (const p of batch) {
        // The tenant is switched only between calls of different accounts: one round trip saved per call.
        if (p.channel.accountId !== account) await setAccount(tx, (account = p.channel.accountId));
        const events: HubEvent[] = [];
        const outcomes: IngestOutcome[] = [];
        for (const e of p.events) outcomes.push(await this.apply(tx, p.channel, e, events));
        settled.push({ p, outcomes, events });
      }
      return settled;
    });
  }

  private async apply(tx: Queryable, channel: ChannelInstallation, e: InboundEvent, events: HubEvent[]): Promise<IngestOutcome> {
    if (e.type === 'ignored') return { result: 'ignored' };
    if (e.type === 'status') {
      const hit = await applyDeliveryStatus(tx, channel.id, e.externalId, e.status, e.error);
      if (!hit) return { result: 'status_unmatched' };
      events.push({ type: 'message.updated', conversationId: hit.conversationId, messageId: hit.id, deliveryStatus: e.status, deliveryError: e.error ?? null });
      return { result: 'status', conversationId: hit.conversationId, messageId: hit.id };
    }
    const m = e.message;
    if (m.direction === 'outbound') return this.applyEcho(tx, channel, m, events);

    const verified = m.sender.verified ?? false;
    const { contactId } = await resolveContactIdentity(tx, {
      accountId: channel.accountId,
      channelId: channel.id,
      externalId: m.sender.externalId,
      displayName: m.sender.displayName,
      address: m.sender.address,
      verified,
      email: channel.kind === 'email' || m.sender.address?.includes('@') ? m.sender.address : undefined,
      phone: channel.kind === 'whatsapp' ? m.sender.address ?? m.sender.externalId : undefined,
    });
    const hinted = m.threadHints ? await conversationFromHints(tx, channel.id, contactId, m) : undefined;
    const conversation = hinted ? { id: hinted.id, created: false, status: hinted.status } : await resolveConversation(tx, {
      accountId: channel.accountId,
      channelId: channel.id,
      contactId,
      threadKey: m.threadKey,
      subject: m.subject,
      teamId: channel.teamId,
      at: m.sentAt,
    });
    const inserted = await insertMessage(tx, {
      accountId: channel.accountId,
      conversationId: conversation.id,
      channelId: channel.id,
      direction: 'inbound',
      authorKind: 'contact',
      text: m.text,
      html: m.html,
      externalId: m.externalId,
      inReplyTo: m.inReplyToExternalId,
      autoReply: m.autoReply ?? false,
      sentAt: m.sentAt,
      // The whole body beside the visible reply (email), and why a message was kept raw.
      metadata: { ...(m.fullText !== undefined ? { fullText: m.fullText } : {}), ...(m.keptRaw ? { keptRaw: m.keptRaw } : {}) },
    });
    if (!inserted) return { result: 'duplicate', conversationId: conversation.id };

    if (m.attachments.length > 0) await insertAttachments(tx, channel.accountId, inserted.id, await this.storeInline(tx, channel, m, inserted.id));
    // Everyone the customer copied stays copied on our replies; an auto-responder's list is not a conversation's.
    if (m.cc?.length && !m.autoReply) await rememberCc(tx, conversation.id, m.cc);
    if (hinted) await touchConversation(tx, conversation.id, m.sentAt);
    // A customer writing again reopens a resolved or snoozed conversation; an auto-reply does not.
    if (!m.autoReply && (conversation.status === 'resolved' || conversation.status === 'snoozed')) {
      await reopenConversation(tx, conversation.id);
      events.push({ type: 'conversation.updated', conversationId: conversation.id, changes: { status: 'open' } });
    }
    const job = { conversationId: conversation.id, messageId: inserted.id };
    // Auto-replies are kept for the record but never reach the AI, so they cannot start a mail loop.
    await enqueueMany(tx, channel.accountId, m.autoReply ? [['surface.sync', job]] : [['ai.classify', job], ['surface.sync', job]]);
    if (conversation.created) events.push({ type: 'conversation.created', conversationId: conversation.id });
    events.push({ type: 'message.created', conversationId: conversation.id, messageId: inserted.id, direction: 'inbound', isPrivate: false });
    return { result: 'created', conversationId: conversation.id, messageId: inserted.id, conversationCreated: conversation.created };
  }

  /** Our own send coming back (Messenger echo, Sent folder): confirms delivery, never a new inbound. */
  private async applyEcho(tx: Queryable, channel: ChannelInstallation, m: NormalizedMessage, events: HubEvent[]): Promise<IngestOutcome> {
    const hit = await applyDeliveryStatus(tx, channel.id, m.externalId, 'sent');
    if (hit) events.push({ type: 'message.updated', conversationId: hit.conversationId, messageId: hit.id, deliveryStatus: 'sent' });
    return { result: 'echo', conversationId: hit?.conversationId, messageId: hit?.id };
  }

  private async storeInline(tx: Queryable, channel: ChannelInstallation, m: NormalizedMessage, messageId: string) {
    // Files uploaded before the message (web chat) are claimed by the same sender, or the message fails.
    const uploadIds = m.attachments.filter((a) => a.ref.startsWith(UPLOAD_REF_PREFIX)).map((a) => a.ref.slice(UPLOAD_REF_PREFIX.length));
    const uploads = uploadIds.length ? await claimUploads(tx, { channelId: channel.id, uploader: m.sender.externalId, messageId, ids: uploadIds }) : [];
    if (!uploads) throw new HubError(400, 'upload_unknown', 'an attachment names an upload that is unknown, not yours, or already sent');
    const rest = await Promise.all(
      m.attachments.filter((a) => !a.ref.startsWith(UPLOAD_REF_PREFIX)).map(async (a) => {
        if (!a.ref.startsWith('inline:')) return { ...a };
        const bytes = Buffer.from(a.ref.slice('inline:'.length), 'base64');
        return { ...a, ref: undefined, size: a.size ?? bytes.length, blobKey: await this.deps.blobs.put(bytes) };
      }),
    );
    return [...uploads, ...rest];
  }
}

/** How far back a reply-subject match from the same contact may reach. */
const SUBJECT_MATCH_DAYS = 30;

/**
 * Thread fallback for clients that drop or rewrite thread headers (Outlook): a message this one
 * answers that we stored or sent in this channel, then our reply token, then the same contact's
 * recent conversation with the same reply-stripped subject (prefixes stripped as in connectors/email/thread.ts).
 */
async function conversationFromHints(tx: Queryable, channelId: string, contactId: string, m: NormalizedMessage): Promise<{ id: string; status: string } | undefined> {
  const hints = m.threadHints!;
  if (hints.references.length > 0) {
    const { rows } = await tx.query<{ id: string; status: string }>(
      `SELECT c.id, c.status FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.channel_id = $1 AND m.external_id = ANY($2::text[]) ORDER BY m.sent_at DESC LIMIT 1`,
      [channelId, hints.references],
    );
    if (rows[0]) return rows[0];
  }
  if (hints.replyToken && /^[0-9a-f-]{36}$/u.test(hints.replyToken)) {
    const { rows } = await tx.query<{ id: string; status: string }>(`SELECT id, status FROM conversations WHERE channel_id = $1 AND id = $2::uuid`, [channelId, hints.replyToken]);
    if (rows[0]) return rows[0];
  }
  if (hints.subjectKey && hints.references.length === 0) {
    const { rows } = await tx.query<{ id: string; status: string }>(
      `SELECT id, status FROM conversations WHERE channel_id = $1 AND contact_id = $2 AND last_message_at > $4::timestamptz - make_interval(days => $5)
         AND lower(btrim(regexp_replace(regexp_replace(coalesce(subject, ''), '^(\\s*[^\\s:：]{1,3}(\\s*\\[\\d+\\])?\\s*[:：])+\\s*', ''), '\\s+', ' ', 'g'))) = $3
       ORDER BY last_message_at DESC LIMIT 1`,
      [channelId, contactId, hints.subjectKey, m.sentAt, SUBJECT_MATCH_DAYS],
    );
    if (rows[0]) return rows[0];
  }
  return undefined;
}

/** Refuses events that name another installation; a connector bug must not cross channels. */
function checkEvent(channel: ChannelInstallation, e: InboundEvent): void {
  if (e.type === 'message') {
    const m = e.message;
    if (m.channel.channelId !== channel.id || m.channel.kind !== channel.kind)
      throw new HubError(400, 'event_channel_mismatch', 'event names another channel than the one it arrived on');
    if (!m.threadKey.startsWith(`${channel.kind}:`)) throw new HubError(400, 'thread_key_invalid', `thread key must start with "${channel.kind}:"`);
    if (!m.externalId) throw new HubError(400, 'external_id_missing', 'message has no external id');
  } else if (e.type === 'status' && e.channelId !== channel.id) {
    throw new HubError(400, 'event_channel_mismatch', 'status names another channel than the one it arrived on');
  }
}


/** Same conversation, same lane: the thread key of the call's first message (or its channel). */
function laneOf(channel: ChannelInstallation, events: InboundEvent[], lanes: number): number {
  const first = events.find((e) => e.type !== 'ignored');
  const key = first?.type === 'message' ? first.message.threadKey : `${channel.id}:${first?.type === 'status' ? first.externalId : ''}`;
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return Math.abs(h) % lanes;
}
