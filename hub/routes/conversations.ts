import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TOptional } from 'typebox';
import { tenantReads, withAccount } from '../../storage/session.js';
import { INBOX_SUMMARY, conversationCc, getConversation, inboxCounts, listInbox, markConversationRead } from '../../storage/repositories/conversations.js';
import { getConversationAttachment, listMessages } from '../../storage/repositories/messages.js';
import { latestAiResult, listDrafts } from '../../storage/repositories/ai.js';
import { HubError, badRequest, notFound } from '../errors.js';
import { Conversation, Csat, IdParams, Message, Nullable, Page, StringEnum, Uuid, decodeCursor, encodeCursor } from '../schemas.js';
import { latestCsat } from './webchat-csat.js';
import type { Actor } from '../services/conversations.js';
import type { FastifyRequest } from 'fastify';
import { fileLink, sendAttachment } from '../services/file-links.js';
import { RichReplyFields, richOfBody, type RichReplyBody } from './rich-reply.js';
import { readReplyWindow, replyWindowState } from '../surfaces/channel-window.js';
import { enqueueReadMark } from '../workers/read-mark.js';
import { ROLE_RANK } from '../services/auth.js';

const Status = Type.Union([Type.Literal('open'), Type.Literal('pending'), Type.Literal('snoozed'), Type.Literal('resolved')]);
const Priority = Type.Union([Type.Literal('low'), Type.Literal('normal'), Type.Literal('high'), Type.Literal('urgent')]);

export const actorOf = (req: FastifyRequest): Actor => ({
  accountId: req.principal.accountId,
  kind: req.principal.userId ? 'user' : 'api_key',
  id: req.principal.userId ?? req.principal.apiKeyId,
});

/** A time as the list writes it (the row's Date as ISO 8601). */
const Time = Type.String({ format: 'date-time' });

/** A conversation as an inbox row shows it, its times as ISO 8601 strings. */
const InboxRowFields = Type.Object({
  ...Conversation.properties,
  snoozedUntil: Nullable(Time),
  lastMessageAt: Time,
  createdAt: Time,
  updatedAt: Time,
  channelName: Type.String(),
  contactEmail: Nullable(Type.String()),
  contactPhone: Nullable(Type.String()),
  preview: Nullable(Type.String({ description: "the last public message's first line" })),
  previewDirection: Nullable(StringEnum(['inbound', 'outbound'])),
  waitingSince: Nullable(Type.String({ description: "the customer's oldest message no agent has answered since" })),
  unread: Type.Boolean({ description: 'a customer message arrived after the caller last read it (always true-or-false per user; API keys see false only when nothing came in)' }),
});

type RowFields = typeof InboxRowFields.properties;
const summary = new Set<string>(INBOX_SUMMARY);
/** The fields `view=summary` leaves out are optional; every other one is always there. */
export const InboxConversation = Type.Object(
  Object.fromEntries(Object.entries(InboxRowFields.properties).map(([k, v]) => [k, summary.has(k) ? v : Type.Optional(v)])) as
    { [K in keyof RowFields]: K extends (typeof INBOX_SUMMARY)[number] ? RowFields[K] : TOptional<RowFields[K]> },
);

const conversations: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.hub;

  app.get('/conversations', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      summary: 'List conversations, newest activity first',
      querystring: Type.Object({
        status: Type.Optional(Type.Union([Status, Type.Literal('active')], { description: '`active`: open or pending (an agent replied and waits for the customer)' })),
        team: Type.Optional(Uuid),
        assignee: Type.Optional(Type.Union([Uuid, Type.Literal('none'), Type.Literal('me')])),
        channel: Type.Optional(Uuid),
        category: Type.Optional(Type.String({ maxLength: 100 })),
        priority: Type.Optional(Priority),
        contact: Type.Optional(Uuid),
        tag: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
        q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'full-text search over message text' })),
        sort: Type.Optional(Type.Union([Type.Literal('recent'), Type.Literal('priority'), Type.Literal('waiting')], { description: "`recent` (default): latest activity first; `priority`: urgent first, then latest activity; `waiting`: the customer waiting longest first (since their oldest unanswered message, as `waitingSince`), then conversations nothing waits in, latest activity first" })),
        limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
        cursor: Type.Optional(Type.String({ maxLength: 500 })),
        view: Type.Optional(StringEnum(['full', 'summary'], { description: `\`full\` (default): every field; \`summary\`: what a row of the desk's inbox shows (${INBOX_SUMMARY.join(', ')}), a lighter page` })),
      }),
      response: { 200: Page(InboxConversation) },
    },
  }, async (req) => {
    const q = req.query;
    const cursor = decodeCursor<{ lastMessageAt: string; id: string; rank?: string; waiting?: string }>(q.cursor, ['lastMessageAt', 'id']);
    // A priority sort's cursor carries the rank it stopped at, a waiting sort's the wait's start; another sort's cursor does not fit.
    if (cursor && q.sort === 'priority' && !/^[0-3]$/.test(cursor.rank ?? '')) throw badRequest('invalid_cursor', 'cursor is not valid for this sort');
    if (cursor && q.sort === 'waiting' && !(cursor.waiting === 'infinity' || /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/.test(cursor.waiting ?? '')))
      throw badRequest('invalid_cursor', 'cursor is not valid for this sort');
    const after = cursor && { lastMessageAt: cursor.lastMessageAt, id: cursor.id, rank: Number(cursor.rank ?? 0), waiting: cursor.waiting };
    // An API key is nobody: without this, `me` would drop the filter and list everyone's conversations.
    if (q.assignee === 'me' && !req.principal.userId) throw badRequest('assignee_me_needs_user', 'assignee=me needs a user, not an API key');
    const assigneeId = q.assignee === 'none' ? null : q.assignee === 'me' ? req.principal.userId! : q.assignee;
    // One statement for the page and its rows' summaries (listInbox), one round trip as the tenant (tenantReads).
    const rows = await listInbox(tenantReads(db, req.principal.accountId), { status: q.status, teamId: q.team, assigneeId, channelId: q.channel, category: q.category, priority: q.priority, contactId: q.contact, tag: q.tag?.trim().toLowerCase(), q: q.q, sort: q.sort, limit: q.limit + 1, after }, req.principal.userId ?? null, q.view);
    // Rows go out as read: the response schema writes only its own fields (not the cursor's keys).
    const items = rows.length > q.limit ? rows.slice(0, q.limit) : rows;
    const last = items.length === q.limit && rows.length > q.limit ? items[q.limit - 1] : undefined;
    const nextCursor = last ? encodeCursor({ lastMessageAt: last.cursorAt, id: last.id, ...(q.sort === 'priority' ? { rank: String(last.rank) } : q.sort === 'waiting' ? { waiting: last.waitingKey } : {}) }) : null;
    return { items, nextCursor };
  });

  app.get('/conversations/counts', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      summary: 'How many conversations each inbox view holds: Mine, Unassigned and All open count active ones (open or pending)',
      response: { 200: Type.Object({ mine: Type.Integer(), unassigned: Type.Integer(), open: Type.Integer(), snoozed: Type.Integer(), resolved: Type.Integer() }) },
    },
  }, async (req) => inboxCounts(tenantReads(db, req.principal.accountId), req.principal.userId ?? null));

  app.post('/conversations/:id/read', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: { tags: ['conversations'], summary: 'Marks the conversation read by the calling user (clears its unread mark in their inbox)', params: IdParams, response: { 204: Type.Null() } },
  }, async (req, reply) => {
    const p = req.principal;
    // An API key is nobody: it has no inbox to mark.
    if (!p.userId) throw badRequest('read_needs_user', 'marking read needs a user, not an API key');
    const marked = await withAccount(db, p.accountId, async (tx) => {
      const ok = await markConversationRead(tx, p.accountId, req.params.id, p.userId!);
      // An agent opening it tells the customer it was read (WhatsApp's blue ticks); a viewer looking does not.
      if (ok && ROLE_RANK[p.role] >= ROLE_RANK.agent && (await enqueueReadMark(tx, p.accountId, req.params.id))) app.hub.runner.kick();
      return ok;
    });
    if (!marked) throw notFound('conversation');
    return reply.status(204).send(null);
  });

  app.get('/conversations/:id', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      params: IdParams,
      response: {
        200: Type.Object({
          conversation: Conversation,
          ai: Nullable(Type.Record(Type.String(), Type.Unknown())),
          drafts: Type.Array(Type.Record(Type.String(), Type.Unknown())),
          cc: Type.Array(Type.String(), { description: 'email: who replies copy (everyone the customer copied, or the list an agent last set)' }),
          csat: Type.Optional(Csat),
          channelWindow: Type.Optional(Type.Object({
            kind: Type.Union([Type.Literal('whatsapp'), Type.Literal('messenger')]),
            closesAt: Nullable(Type.String({ description: "when the last reply can go out: WhatsApp 24 hours after the customer's last message; Messenger 7 days (human agent tag), or 24 hours where the Page may not use the tag; null when they never wrote" })),
            open: Type.Boolean({ description: 'replies are allowed now; when false WhatsApp takes only an approved template (POST …/template) and Messenger nothing until the customer writes' }),
            state: Type.Union([Type.Literal('open'), Type.Literal('human_agent'), Type.Literal('closed')], { description: "open: standard replies; human_agent: Messenger after 24 hours, replies go tagged HUMAN_AGENT (sent by a person); closed" }),
            responseClosesAt: Type.Optional(Nullable(Type.String({ description: "Messenger with the human agent tag: when standard messaging (24 hours) ends" }))),
          }, { description: 'WhatsApp and Messenger: how long the customer can be answered' })),
        }),
      },
    },
  }, async (req) => {
    return withAccount(db, req.principal.accountId, async (tx) => {
      const conversation = await getConversation(tx, req.params.id);
      if (!conversation) throw notFound('conversation');
      const csat = await latestCsat(tx, req.params.id);
      const window = conversation.channelKind === 'whatsapp' || conversation.channelKind === 'messenger' ? await readReplyWindow(tx, req.params.id) : undefined;
      const state = window && replyWindowState(window);
      const channelWindow = window && state ? { ...window, open: state !== 'closed', state } : undefined;
      return { conversation, ai: (await latestAiResult(tx, req.params.id)) ?? null, drafts: (await listDrafts(tx, req.params.id)) as unknown as Record<string, unknown>[], cc: await conversationCc(tx, req.params.id), ...(csat ? { csat } : {}), ...(channelWindow ? { channelWindow } : {}) };
    });
  });

  app.get('/conversations/:id/messages', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      params: IdParams,
      querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 100 }), cursor: Type.Optional(Type.String({ maxLength: 500 })) }),
      response: { 200: Page(Message) },
    },
  }, async (req) => {
    const after = decodeCursor<{ sentAt: string; id: string }>(req.query.cursor, ['sentAt', 'id']);
    const rows = await withAccount(db, req.principal.accountId, async (tx) => {
      if (!(await getConversation(tx, req.params.id))) throw notFound('conversation');
      return listMessages(tx, req.params.id, { limit: req.query.limit + 1, after });
    });
    const link = (attachmentId: string) => fileLink(app.hub.config.secretKey, { accountId: req.principal.accountId, conversationId: req.params.id, attachmentId });
    const items = rows.slice(0, req.query.limit).map((m) => ({
      ...m,
      fullText: typeof m.metadata.fullText === 'string' ? m.metadata.fullText : null,
      attachments: m.attachments.map((a) => ({ ...a, url: link(a.id) })),
    }));
    const last = items[items.length - 1];
    const nextCursor = rows.length > req.query.limit && last ? encodeCursor({ sentAt: last.cursorAt, id: last.id }) : null;
    return { items, nextCursor };
  });

  app.get('/conversations/:id/attachments/:attachmentId', {
    onRequest: app.authorize('viewer', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      summary: "An attachment's bytes (inline images: match `cid:` in message HTML against the attachment's contentId)",
      params: Type.Object({ id: Uuid, attachmentId: Uuid }),
    },
  }, async (req, reply) => {
    const attachment = await withAccount(db, req.principal.accountId, async (tx) => {
      if (!(await getConversation(tx, req.params.id))) throw notFound('conversation');
      return getConversationAttachment(tx, req.params.id, req.params.attachmentId);
    });
    if (!attachment) throw notFound('attachment');
    if (!attachment.blobKey && attachment.fetchState === 'pending') throw new HubError(404, 'attachment_not_fetched_yet', 'this file is still being fetched from the channel; try again shortly');
    if (!attachment.blobKey && attachment.fetchState === 'failed') throw new HubError(404, 'attachment_fetch_failed', 'this file could not be fetched from the channel (see the attachment\'s fetchError)');
    if (!attachment.blobKey) throw new HubError(404, 'attachment_not_stored', 'this attachment was too large to keep; only its name and size are known');
    return sendAttachment(reply, attachment, await app.hub.blobs.get(attachment.blobKey), 3600);
  });

  const ReplyBody = Type.Object({
    text: Type.String({ maxLength: 100_000 }),
    html: Type.Optional(Type.String({ maxLength: 500_000 })),
    draftId: Type.Optional(Uuid),
    attachments: Type.Optional(Type.Array(Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }), mimeType: Type.String({ maxLength: 255 }), contentBase64: Type.String() }), { maxItems: 10 })),
    uploadIds: Type.Optional(Type.Array(Uuid, { maxItems: 10, description: 'files uploaded for this conversation by the same caller (POST /conversations/:id/uploads); 400 upload_unknown when one is not' })),
    cc: Type.Optional(Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 50, description: "email: who this reply copies; it becomes the conversation's Cc list (omit to keep the list)" })),
    bcc: Type.Optional(Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 50, description: 'email: blind copies of this reply only' })),
    ...RichReplyFields,
  });
  const toInput = (b: { text: string; html?: string; draftId?: string; attachments?: { name: string; mimeType: string; contentBase64: string }[]; uploadIds?: string[]; cc?: string[]; bcc?: string[] } & RichReplyBody) => ({
    ...richOfBody(b),
    text: b.text,
    html: b.html,
    draftId: b.draftId,
    attachments: b.attachments?.map((a) => ({ name: a.name, mimeType: a.mimeType, content: Buffer.from(a.contentBase64, 'base64') })),
    uploadIds: b.uploadIds,
    cc: b.cc,
    bcc: b.bcc,
  });

  app.post('/conversations/:id/reply', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: { tags: ['conversations'], summary: 'Reply to the customer on their channel', params: IdParams, body: ReplyBody, response: { 202: Message } },
  }, async (req, reply) => {
    const message = await app.hub.conversations.reply(actorOf(req), req.params.id, toInput(req.body));
    return reply.status(202).send(message);
  });

  app.post('/conversations/:id/notes', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: { tags: ['conversations'], summary: 'Add an internal note (never sent to the customer)', params: IdParams, body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 100_000 }) }), response: { 201: Message } },
  }, async (req, reply) => {
    const message = await app.hub.conversations.reply(actorOf(req), req.params.id, { text: req.body.text, isPrivate: true });
    return reply.status(201).send(message);
  });

  app.post('/conversations/:id/participants', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      summary: "Email: copy someone on the conversation's later replies (add them to its Cc list), e.g. after \"X joined this thread\"",
      params: IdParams,
      body: Type.Object({ address: Type.String({ format: 'email', maxLength: 254 }) }),
      response: { 200: Type.Object({ cc: Type.Array(Type.String(), { description: "the conversation's Cc list now" }) }) },
    },
  }, async (req) => app.hub.conversations.addParticipant(actorOf(req), req.params.id, req.body.address));

  app.post('/conversations/:id/assign', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: { tags: ['conversations'], params: IdParams, body: Type.Object({ assigneeId: Type.Optional(Nullable(Uuid)), teamId: Type.Optional(Nullable(Uuid)) }), response: { 200: Conversation } },
  }, async (req) => app.hub.conversations.assign(actorOf(req), req.params.id, req.body));

  app.post('/conversations/:id/status', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: { tags: ['conversations'], params: IdParams, body: Type.Object({ status: Status, snoozedUntil: Type.Optional(Type.String({ format: 'date-time' })) }), response: { 200: Conversation } },
  }, async (req) => app.hub.conversations.setStatus(actorOf(req), req.params.id, req.body.status, req.body.snoozedUntil));

  app.post('/conversations/:id/tags', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: {
      tags: ['conversations'],
      summary: "Replaces the conversation's tags (trimmed, lower-cased, each once)",
      params: IdParams,
      body: Type.Object({ tags: Type.Array(Type.String({ minLength: 1, maxLength: 50, pattern: '\\S' }), { maxItems: 20 }) }),
      response: { 200: Conversation },
    },
  }, async (req) => app.hub.conversations.setTags(actorOf(req), req.params.id, req.body.tags));

  app.post('/conversations/:id/priority', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: { tags: ['conversations'], params: IdParams, body: Type.Object({ priority: Priority }), response: { 200: Conversation } },
  }, async (req) => app.hub.conversations.setPriority(actorOf(req), req.params.id, req.body.priority));

  app.post('/conversations/:id/drafts/:draftId/reject', {
    onRequest: app.authorize('agent', { allowEmbed: true }),
    schema: { tags: ['conversations'], params: Type.Object({ id: Uuid, draftId: Uuid }), response: { 204: Type.Null() } },
  }, async (req, reply) => {
    await app.hub.conversations.rejectDraft(actorOf(req), req.params.id, req.params.draftId);
    return reply.status(204).send(null);
  });
};

export default conversations;
