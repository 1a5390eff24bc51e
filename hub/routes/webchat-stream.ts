import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import type { AccountEvent } from '../realtime/events.js';
import { sharedFrame, sseFrame } from '../realtime/sse.js';
import { withAccount } from '../../storage/session.js';
import { conversationState } from './webchat-csat.js';
import { visitorConversationId, visitorMessage } from './webchat-visitor.js';

const HEARTBEAT_MS = 25_000;

/**
 * A visitor's server-sent event stream: the account's bus, narrowed to this visitor's conversation.
 * `message` carries the public message (never a note); `status` the delivery state of a reply;
 * `typing` an agent typing (`name`, and `stopped: true` when they stopped); `conversation` its status when that (or its rating) changes:
 * `{ status, csatDue }`, so the widget offers a rating once an agent resolves it.
 * Returns the function that ends the stream.
 */
export function openVisitorStream(
  app: FastifyInstance,
  req: FastifyRequest,
  reply: FastifyReply,
  channel: ChannelInstallation,
  visitorId: string,
): () => void {
  const { db, bus } = app.hub;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: 2000\n: connected\n\n`);

  let closed = false;
  let conversationId: string | undefined;
  const send = (event: string, data: unknown) => {
    if (!closed) res.write(sseFrame(event, data));
  };
  // Frames every visitor stream of the conversation shows alike are serialised once per event.
  const sendShared = (source: AccountEvent, event: string, data: () => unknown) => {
    if (!closed) res.write(sharedFrame(source, `visitor:${event}`, event, data));
  };
  const forward = async (source: AccountEvent) => {
    const e = source.event;
    if (closed) return;
    // A new visitor has no conversation until the first message; it appears with conversation.created.
    if (!conversationId) {
      if (e.type !== 'conversation.created') return;
      conversationId = await visitorConversationId(db, channel, visitorId);
    }
    if (!conversationId || !('conversationId' in e) || e.conversationId !== conversationId) return;
    if (e.type === 'message.created' && !e.isPrivate) {
      const message = await visitorMessage(db, channel, visitorId, conversationId, e.messageId);
      if (message) send('message', message);
    } else if (e.type === 'message.updated') {
      sendShared(source, 'status', () => ({ messageId: e.messageId, deliveryStatus: e.deliveryStatus }));
    } else if (e.type === 'typing' && e.by === 'agent') {
      sendShared(source, 'typing', () => (e.stopped ? { name: e.name, stopped: true } : { name: e.name }));
    } else if (e.type === 'conversation.updated' && ('status' in e.changes || 'csat' in e.changes)) {
      const id = conversationId;
      const state = await withAccount(db, channel.accountId, (tx) => conversationState(tx, id));
      if (state) send('conversation', state);
    }
  };

  // One queue per stream keeps events in bus order although each needs a read first.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (fn: () => Promise<void>) => {
    queue = queue.then(fn).catch((err: unknown) => req.log.warn({ err }, 'webchat stream event dropped'));
  };
  const unsubscribe = bus.subscribe(channel.accountId, (e) => enqueue(() => forward(e)));
  // Looked up after subscribing: a conversation committed in between is then either found here or announced.
  enqueue(async () => {
    conversationId ??= await visitorConversationId(db, channel, visitorId);
  });

  const heartbeat = setInterval(() => res.write(`: ping\n\n`), HEARTBEAT_MS);
  const end = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    unsubscribe();
    res.end();
  };
  req.raw.on('close', end);
  return end;
}
