import type { ChannelInstallation, InboundEvent, NormalizedMessage } from '../../connectors/core/types.js';
import type { Database, Queryable } from '../../storage/database.js';
import type { LocalBlobStore } from '../../storage/blob-store.js';
import { setAccount } from '../../storage/session.js';
import { rememberCc } from '../../storage/repositories/conversations.js';
import { applyDeliveryStatus, applyDeliveryWatermark, claimSendByReference, editMessage, insertAttachments, insertMessage, isOurSend, keepPendingStatus, keepWatermark, lockReceipts, redactMessage } from '../../storage/repositories/messages.js';
import { setThreadControl } from '../../storage/repositories/thread-control.js';
import { enqueue, enqueueSurfaceSync } from '../../storage/repositories/outbox.js';
import { claimUploads } from '../../storage/repositories/uploads.js';
import { UPLOAD_REF_PREFIX } from '../../connectors/webchat/connector.js';
import type { EventBus, HubEvent } from '../realtime/events.js';
import type { HubMetrics } from '../metrics.js';
import { HubError } from '../errors.js';
import { storableEvent } from './inbound-text.js';

export type IngestResult = 'created' | 'duplicate' | 'echo' | 'status' | 'status_unmatched' | 'edited' | 'deleted' | 'change_unmatched' | 'control' | 'control_unmatched' | 'ignored';

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
  private inFlight = 0;

  constructor(
    private readonly db: Database,
    private readonly deps: {
      bus: EventBus;
      metrics: HubMetrics;
      blobs: LocalBlobStore;
      batchMax: number;
      /** Fewest calls a lane commits while another lane's transaction is in flight. */
      batchMin: number;
      concurrency: number;
      /** Called after each commit that wrote outbox rows, so the relay need not wait for its poll. */
      onOutbox: () => void;
    },
  ) {
    this.lanes = Array.from({ length: Math.max(1, deps.concurrency) }, () => ({ waiting: [], busy: false }));
  }

  ingest(channel: ChannelInstallation, received: InboundEvent[]): Promise<IngestOutcome[]> {
    const events = received.map(storableEvent);
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
    // Beside a transaction in flight, a small batch waits for more (or for that one to end): each
    // transaction has a fixed cost, so many small ones cost more than the parallelism gains.
    if (this.inFlight > 0 && lane.waiting.length < this.deps.batchMin) return;
    const batch = lane.waiting.splice(0, this.deps.batchMax);
    lane.busy = true;
    this.inFlight++;
    void this.flush(batch).finally(() => {
      lane.busy = false;
      this.inFlight--;
      // Longest-waiting lane first, so a lane with few calls is never passed over for long.
      const next = this.lanes.filter((l) => l.waiting.length > 0).sort((a, b) => Number(a.waiting[0]!.startedAt - b.waiting[0]!.startedAt));
      for (const l of next) this.pump(l);
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
        // A status may have queued the card's update (only with a Slack or Teams installation).
        if (o.result === 'created' || o.result === 'edited' || o.result === 'deleted' || o.result === 'status' || (o.result === 'echo' && o.messageId)) wroteOutbox = true;
      }
      for (const e of s.events) this.deps.bus.publish(s.p.channel.accountId, e);
      s.p.resolve(s.outcomes!);
    }
    if (wroteOutbox) this.deps.onOutbox();
  }

  /**
   * One transaction for the batch: statuses and echoes one by one, inbound messages of a channel
   * in one call of hd_ingest_messages (migration 050), so a message costs no round trip of its own.
   */
  private commit(batch: Pending[]): Promise<Settled[]> {
    if (batch.every((p) => p.events.every(isPlainInbound))) return this.commitPlainByChannel(batch);
    return this.db.transaction(async (tx) => {
      const settled: Settled[] = batch.map((p) => ({ p, outcomes: [], events: [] }));
      const byAccount = groupBy(settled, (s) => s.p.channel.accountId);
      for (const [accountId, group] of byAccount) {
        await setAccount(tx, accountId);
        const inbound: InboundItem[] = [];
        for (const s of group) {
          for (const [at, e] of s.p.events.entries()) {
            if (e.type === 'message' && e.message.direction === 'inbound') inbound.push({ s, at, m: e.message });
            else s.outcomes![at] = await this.applyOther(tx, s.p.channel, e, s.events);
          }
        }
        for (const item of inbound) if (item.m.threadHints) item.conversationId = await conversationFromHints(tx, item.s.p.channel.id, item.m);
        for (const items of groupBy(inbound, (i) => i.s.p.channel.id).values()) await this.applyMessages(tx, items);
      }
      return settled;
    });
  }

  /**
   * Plain inbound messages of several channels (a hub serving a few Slack workspaces or web chats): one
   * statement per account, its own transaction, taking every channel's rows (migration 341), instead of one
   * statement and commit per channel. If it fails, each channel goes alone and a channel that fails has its
   * calls retried one by one, as a failed batch has; the other channels' messages commit (nothing ties two
   * channels' messages together).
   */
  private async commitPlainByChannel(batch: Pending[]): Promise<Settled[]> {
    // One channel: its failure is the batch's (flush retries each call alone, which comes back here).
    if (new Set(batch.map((p) => p.channel.id)).size === 1) return this.commitPlain(batch);
    const settled: Settled[] = [];
    for (const ofAccount of groupBy(batch, (p) => p.channel.accountId).values()) {
      const groups = [...groupBy(ofAccount, (p) => p.channel.id).values()];
      try {
        settled.push(...(await (groups.length === 1 ? this.commitPlain(ofAccount) : this.commitPlainChannels(groups))));
        continue;
      } catch {
        // Each channel alone (several), else each call alone, below.
      }
      for (const group of groups) {
        if (groups.length > 1) {
          try {
            settled.push(...(await this.commitPlain(group)));
            continue;
          } catch {
            // Each call alone, below.
          }
        }
        for (const p of group) {
          try {
            settled.push(...(await this.commit([p])));
          } catch (error) {
            settled.push({ p, error, events: [] });
          }
        }
      }
    }
    return settled;
  }

  /** Plain inbound messages of several channels of one account: one statement, one transaction (migration 341). */
  private async commitPlainChannels(groups: Pending[][]): Promise<Settled[]> {
    const parts = groups.map((group) => {
      const settled: Settled[] = group.map((p) => ({ p, outcomes: [], events: [] }));
      const items = settled.flatMap((s) => s.p.events.map((e, at) => ({ s, at, m: (e as Extract<InboundEvent, { type: 'message' }>).message })));
      return { channel: group[0]!.channel, settled, items };
    });
    const { rows } = await this.db.prepared<IngestRow & { grp: number }>('hd_ingest_channels_as', `SELECT * FROM hd_ingest_channels_as($1, $2::jsonb) ORDER BY grp, ord`, [
      parts[0]!.channel.accountId,
      JSON.stringify(parts.map(({ channel, items }) => ({ channel: channel.id, team: channel.teamId ?? null, rows: items.map((i) => messageRow(channel, i)) }))),
    ]);
    for (const [k, part] of parts.entries()) await this.settleMessages(undefined, part.items, rows.filter((r) => r.grp === k));
    return parts.flatMap((part) => part.settled);
  }

  /**
   * The common case, plain inbound messages of one channel: one statement that is its own transaction
   * (hd_ingest_messages_as sets the tenant itself, migration 052), so one round trip instead of four.
   */
  private async commitPlain(batch: Pending[]): Promise<Settled[]> {
    const settled: Settled[] = batch.map((p) => ({ p, outcomes: [], events: [] }));
    const items = settled.flatMap((s) => s.p.events.map((e, at) => ({ s, at, m: (e as Extract<InboundEvent, { type: 'message' }>).message })));
    const channel = batch[0]!.channel;
    const { rows } = await this.db.prepared<IngestRow>('hd_ingest_messages_as', `SELECT * FROM hd_ingest_messages_as($1, $2, $3, $4::jsonb) ORDER BY ord`, [
      channel.accountId, channel.id, channel.teamId, JSON.stringify(items.map((i) => messageRow(channel, i))),
    ]);
    await this.settleMessages(undefined, items, rows);
    return settled;
  }

  private async applyMessages(tx: Queryable, items: InboundItem[]): Promise<void> {
    const channel = items[0]!.s.p.channel;
    const { rows } = await tx.query<IngestRow>(`SELECT * FROM hd_ingest_messages($1, $2, $3, $4::jsonb) ORDER BY ord`, [
      channel.accountId, channel.id, channel.teamId, JSON.stringify(items.map((i) => messageRow(channel, i))),
    ]);
    await this.settleMessages(tx, items, rows);
  }

  /** Outcomes and events from hd_ingest_messages' rows; attachments and Cc need the transaction (tx). */
  private async settleMessages(tx: Queryable | undefined, items: InboundItem[], rows: IngestRow[]): Promise<void> {
    const channel = items[0]!.s.p.channel;
    for (const [k, row] of rows.entries()) {
      const { s, at, m } = items[k]!;
      const conversationId = row.conversation_id;
      if (row.result === 'duplicate' || !row.message_id) {
        s.outcomes![at] = { result: 'duplicate', conversationId };
        continue;
      }
      const messageId = row.message_id;
      if (tx && m.attachments.length > 0) {
        const stored = await this.storeInline(tx, channel, m, messageId);
        const ids = await insertAttachments(tx, channel.accountId, messageId, stored);
        // Files given by reference are fetched after this commit, each by its own job: a slow or failing fetch never holds the message.
        for (const [i, a] of stored.entries()) if ('fetchState' in a && a.fetchState === 'pending') await enqueue(tx, channel.accountId, 'media.fetch', { attachmentId: ids[i] });
      }
      // Everyone the customer copied stays copied on our replies; an auto-responder's list is not a conversation's,
      // nor is that of someone who only knew a Message-ID (they are announced instead, and an agent may add them).
      if (tx && m.cc?.length && !m.autoReply && row.participant) await rememberCc(tx, conversationId, m.cc);
      if (row.conversation_created) s.events.push({ type: 'conversation.created', conversationId });
      if (row.reopened) s.events.push({ type: 'conversation.updated', conversationId, changes: { status: 'open' } });
      if (row.notice_id) s.events.push({ type: 'message.created', conversationId, messageId: row.notice_id, direction: 'inbound', isPrivate: true });
      s.events.push({ type: 'message.created', conversationId, messageId, direction: 'inbound', isPrivate: false });
      s.outcomes![at] = { result: 'created', conversationId, messageId, conversationCreated: row.conversation_created };
    }
  }

  private async applyOther(tx: Queryable, channel: ChannelInstallation, e: InboundEvent, events: HubEvent[]): Promise<IngestOutcome> {
    if (e.type === 'ignored') return { result: 'ignored' };
    if (e.type === 'status') {
      const early = KEEPS_EARLY_RECEIPTS.has(channel.kind);
      let hit = await applyDeliveryStatus(tx, channel.id, e.externalId, e.status, e.error);
      if (!hit && early) {
        // Looked at again once no send of this channel can be recording its id (the deliver job takes the same lock).
        await lockReceipts(tx, channel.id);
        hit = await applyDeliveryStatus(tx, channel.id, e.externalId, e.status, e.error);
      }
      // A send cut off before its platform id was stored is named by the id we gave it.
      if (!hit && e.reference && (await claimSendByReference(tx, channel.id, e.reference, e.externalId))) hit = await applyDeliveryStatus(tx, channel.id, e.externalId, e.status, e.error);
      if (!hit) {
        // Too early (the send's id is not stored yet) or not ours: kept, and applied if that send is recorded later.
        if (early && !(await isOurSend(tx, channel.id, e.externalId))) await keepPendingStatus(tx, channel.accountId, channel.id, e.externalId, e.status, e.error);
        return { result: 'status_unmatched' };
      }
      // The reply's post on the Slack or Teams card shows how far it got (sent, delivered, read, failed).
      await enqueueSurfaceSync(tx, channel.accountId, { conversationId: hit.conversationId, messageId: hit.id });
      events.push({ type: 'message.updated', conversationId: hit.conversationId, messageId: hit.id, deliveryStatus: e.status, deliveryError: e.error ?? null });
      return { result: 'status', conversationId: hit.conversationId, messageId: hit.id };
    }
    if (e.type === 'watermark') {
      // The deliver job takes the same lock: a send it records after this is covered by the kept watermark.
      await lockReceipts(tx, channel.id);
      const hits = await applyDeliveryWatermark(tx, channel.id, e.threadKey, e.status, e.upTo);
      await keepWatermark(tx, channel.accountId, channel.id, e.threadKey, e.status, e.upTo);
      for (const hit of hits) events.push({ type: 'message.updated', conversationId: hit.conversationId, messageId: hit.id, deliveryStatus: e.status, deliveryError: null });
      if (hits[0]) await enqueueSurfaceSync(tx, channel.accountId, { conversationId: hits[0].conversationId });
      return hits.length ? { result: 'status', conversationId: hits[0]!.conversationId } : { result: 'status_unmatched' };
    }
    if (e.type === 'edited' || e.type === 'deleted') return this.applyChange(tx, channel, e, events);
    if (e.type === 'control') {
      const conversationId = await setThreadControl(tx, channel.id, e);
      if (!conversationId) return { result: 'control_unmatched' };
      events.push({ type: 'conversation.updated', conversationId, changes: { control: { owner: e.owner, appId: e.appId } } });
      return { result: 'control', conversationId };
    }
    return this.applyEcho(tx, channel, e.message, events);
  }

  /**
   * The author edited or deleted a message they wrote on the platform: the stored text follows (a
   * deletion redacts text and files). Our own sends are never changed this way. Realtime listeners
   * and the surfaces are told.
   */
  private async applyChange(tx: Queryable, channel: ChannelInstallation, e: Extract<InboundEvent, { type: 'edited' | 'deleted' }>, events: HubEvent[]): Promise<IngestOutcome> {
    const hit = e.type === 'edited' ? await editMessage(tx, channel.id, e.externalId, e.text, e.editedAt) : await redactMessage(tx, channel.id, e.externalId, e.deletedAt);
    if (!hit) return { result: 'change_unmatched' };
    await enqueue(tx, channel.accountId, 'surface.sync', { conversationId: hit.conversationId, messageId: hit.id });
    events.push({ type: 'message.edited', conversationId: hit.conversationId, messageId: hit.id, deleted: e.type === 'deleted' });
    return { result: e.type, conversationId: hit.conversationId, messageId: hit.id };
  }

  /** Our own send coming back (Messenger echo, Sent folder): confirms delivery, never a new inbound. */
  private async applyEcho(tx: Queryable, channel: ChannelInstallation, m: NormalizedMessage, events: HubEvent[]): Promise<IngestOutcome> {
    const hit = await applyDeliveryStatus(tx, channel.id, m.externalId, 'sent');
    if (hit) {
      await enqueueSurfaceSync(tx, channel.accountId, { conversationId: hit.conversationId, messageId: hit.id });
      events.push({ type: 'message.updated', conversationId: hit.conversationId, messageId: hit.id, deliveryStatus: 'sent' });
    }
    // Not a send of ours but our side on the platform itself (the Page inbox, the Business app, a linked phone used by hand).
    if (!hit && (m.elsewhere || m.sender.staff)) return this.recordElsewhere(tx, channel, m, events);
    return { result: 'echo', conversationId: hit?.conversationId, messageId: hit?.id };
  }

  /**
   * Our side answered outside HummDesk (the Page inbox, the Business app on the phone): the reply is part
   * of the conversation, as if an agent had sent it, so agents and the AI see what the customer saw. A
   * thread HummDesk never had stays outside it (nothing to attach the reply to).
   */
  private async recordElsewhere(tx: Queryable, channel: ChannelInstallation, m: NormalizedMessage, events: HubEvent[]): Promise<IngestOutcome> {
    const conversation = (await tx.query<{ id: string }>(`SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2`, [channel.id, m.threadKey])).rows[0];
    if (!conversation) return { result: 'echo' };
    const inserted = await insertMessage(tx, {
      accountId: channel.accountId, conversationId: conversation.id, channelId: channel.id, direction: 'outbound', authorKind: 'agent', authorUserId: null,
      text: m.text, externalId: m.externalId, inReplyTo: m.inReplyToExternalId ?? null, deliveryStatus: 'sent', sentAt: m.sentAt,
      metadata: {
        sentElsewhere: m.elsewhere?.by ?? channel.kind,
        ...(m.sender.staff ? { staff: { externalId: m.sender.externalId, name: m.sender.displayName ?? null } } : {}),
        ...(m.details ? { details: m.details } : {}),
      },
    });
    if (!inserted) return { result: 'duplicate', conversationId: conversation.id };
    if (m.attachments.length > 0) {
      const stored = await this.storeInline(tx, channel, m, inserted.id);
      const ids = await insertAttachments(tx, channel.accountId, inserted.id, stored);
      for (const [i, a] of stored.entries()) if ('fetchState' in a && a.fetchState === 'pending') await enqueue(tx, channel.accountId, 'media.fetch', { attachmentId: ids[i] });
    }
    // Answered: like an agent's reply, an open conversation now waits on the customer.
    await tx.query(
      `UPDATE conversations SET last_message_at = greatest(last_message_at, $2::timestamptz), updated_at = now(), status = CASE WHEN status = 'open' THEN 'pending' ELSE status END WHERE id = $1`,
      [conversation.id, m.sentAt],
    );
    await enqueue(tx, channel.accountId, 'surface.sync', { conversationId: conversation.id, messageId: inserted.id });
    events.push({ type: 'message.created', conversationId: conversation.id, messageId: inserted.id, direction: 'outbound', isPrivate: false });
    return { result: 'created', conversationId: conversation.id, messageId: inserted.id };
  }

  private async storeInline(tx: Queryable, channel: ChannelInstallation, m: NormalizedMessage, messageId: string) {
    // Files uploaded before the message (web chat) are claimed by the same sender, or the message fails.
    const uploadIds = m.attachments.filter((a) => a.ref.startsWith(UPLOAD_REF_PREFIX)).map((a) => a.ref.slice(UPLOAD_REF_PREFIX.length));
    const uploads = uploadIds.length ? await claimUploads(tx, { channelId: channel.id, uploader: m.sender.externalId, messageId, ids: uploadIds }) : [];
    if (!uploads) throw new HubError(400, 'upload_unknown', 'an attachment names an upload that is unknown, not yours, or already sent');
    const rest = await Promise.all(
      m.attachments.filter((a) => !a.ref.startsWith(UPLOAD_REF_PREFIX)).map(async (a) => {
        if (a.fetchLater) return { ...a, fetchState: 'pending' as const };
        if (!a.ref.startsWith('inline:')) return { ...a };
        const bytes = Buffer.from(a.ref.slice('inline:'.length), 'base64');
        return { ...a, ref: undefined, size: a.size ?? bytes.length, blobKey: await this.deps.blobs.put(bytes) };
      }),
    );
    return [...uploads, ...rest];
  }
}

/** Channels whose receipts can overtake the answer to the send they report on. */
const KEEPS_EARLY_RECEIPTS = new Set<string>(['whatsapp', 'whatsapp-web', 'messenger']);

/** How far back a reply-subject match from the same contact may reach. */
const SUBJECT_MATCH_DAYS = 30;

/**
 * Thread fallback for clients that drop or rewrite thread headers (Outlook): a message this one
 * answers that we stored or sent in this channel, then our reply token, then the same contact's
 * recent conversation with the same reply-stripped subject (prefixes stripped as in connectors/email/thread.ts).
 * Knowing a Message-ID or the token is enough to join (mailing-list style replies are real); the
 * database marks such a sender as a newcomer unless they are a participant. A subject proves
 * nothing, so it joins only mail whose From the channel's own receiving server did not find forged.
 */
async function conversationFromHints(tx: Queryable, channelId: string, m: NormalizedMessage): Promise<string | undefined> {
  const hints = m.threadHints!;
  if (hints.references.length > 0) {
    const { rows } = await tx.query<{ id: string; status: string }>(
      `SELECT c.id, c.status FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.channel_id = $1 AND m.external_id = ANY($2::text[]) ORDER BY m.sent_at DESC LIMIT 1`,
      [channelId, hints.references],
    );
    if (rows[0]) return rows[0].id;
  }
  if (hints.replyToken && /^[0-9a-f-]{36}$/u.test(hints.replyToken)) {
    const { rows } = await tx.query<{ id: string; status: string }>(`SELECT id, status FROM conversations WHERE channel_id = $1 AND id = $2::uuid`, [channelId, hints.replyToken]);
    if (rows[0]) return rows[0].id;
  }
  const authentication = m.sender.authentication;
  if (hints.subjectKey && hints.references.length === 0 && authentication !== undefined && authentication !== 'fail') {
    const { rows } = await tx.query<{ id: string; status: string }>(
      `SELECT id, status FROM conversations WHERE channel_id = $1
         AND contact_id = (SELECT contact_id FROM contact_identities WHERE channel_id = $1 AND external_id = $2) AND last_message_at > $4::timestamptz - make_interval(days => $5)
         AND lower(btrim(regexp_replace(regexp_replace(coalesce(subject, ''), '^(\\s*[^\\s:：]{1,3}(\\s*\\[\\d+\\])?\\s*[:：])+\\s*', ''), '\\s+', ' ', 'g'))) = $3
       ORDER BY last_message_at DESC LIMIT 1`,
      [channelId, m.sender.externalId, hints.subjectKey, m.sentAt, SUBJECT_MATCH_DAYS],
    );
    if (rows[0]) return rows[0].id;
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
  } else if ((e.type === 'status' || e.type === 'edited' || e.type === 'deleted' || e.type === 'watermark' || e.type === 'control') && e.channelId !== channel.id) {
    throw new HubError(400, 'event_channel_mismatch', `${e.type} event names another channel than the one it arrived on`);
  }
}


/** Same conversation, same lane: the thread key of the call's first message (or its channel). */
function laneOf(channel: ChannelInstallation, events: InboundEvent[], lanes: number): number {
  const first = events.find((e) => e.type !== 'ignored');
  const key =
    first?.type === 'message' ? first.message.threadKey
    : (first?.type === 'edited' || first?.type === 'deleted') && first.threadKey ? first.threadKey
    : first?.type === 'watermark' || first?.type === 'control' ? first.threadKey
    : `${channel.id}:${first?.type === 'status' || first?.type === 'edited' || first?.type === 'deleted' ? first.externalId : ''}`;
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return Math.abs(h) % lanes;
}

/** A message that needs nothing beside hd_ingest_messages: no attachments, thread hints or Cc to keep. */
function isPlainInbound(e: InboundEvent): boolean {
  if (e.type !== 'message' || e.message.direction !== 'inbound') return false;
  const m = e.message;
  return m.attachments.length === 0 && !m.threadHints && !(m.cc?.length && !m.autoReply);
}

type IngestRow = {
  ord: number;
  result: 'created' | 'duplicate';
  conversation_id: string;
  message_id: string | null;
  conversation_created: boolean;
  reopened: boolean;
  /** The sender is the conversation's contact or on its Cc list (or opened it). */
  participant: boolean;
  /** The "X joined this thread" note written before a newcomer's first message. */
  notice_id: string | null;
};

interface InboundItem {
  s: Settled;
  /** The event's index in its call, where its outcome goes. */
  at: number;
  m: NormalizedMessage;
  conversationId?: string;
}

/** One element of hd_ingest_messages' input (its text is NUL-free already: ingest() made every event storable). */
function messageRow(channel: ChannelInstallation, { m, conversationId }: InboundItem) {
  return {
    senderId: m.sender.externalId,
    displayName: m.sender.displayName ?? null,
    address: m.sender.address ?? null,
    verified: m.sender.verified ?? false,
    email: channel.kind === 'email' || m.sender.address?.includes('@') ? m.sender.address ?? null : null,
    // WhatsApp: the phone only when the platform gave one (a username hides it; the id is then a business-scoped one).
    phone: channel.kind === 'whatsapp' || channel.kind === 'whatsapp-web' ? m.sender.address ?? null : null,
    threadKey: m.threadKey,
    conversationId: conversationId ?? null,
    subject: m.subject ?? null,
    sentAt: m.sentAt,
    externalId: m.externalId,
    inReplyTo: m.inReplyToExternalId ?? null,
    text: m.text,
    html: m.html ?? null,
    autoReply: m.autoReply ?? false,
    // The whole body beside the visible reply (email), and why a message was kept raw.
    metadata: {
      ...(m.fullText !== undefined ? { fullText: m.fullText } : {}),
      ...(m.keptRaw ? { keptRaw: m.keptRaw } : {}),
      // Email: what the mailbox's own receiving server found about From, so agents can see a forgery.
      ...(m.sender.authentication ? { authentication: m.sender.authentication } : {}),
      ...(m.details ? { details: m.details } : {}),
    },
  };
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
