import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { Hub } from '../context.js';
import { HubError } from '../errors.js';
import type { Activity } from '../../connectors/teams/activity.js';
import { TeamsAuthError } from '../../connectors/teams/errors.js';
import { authenticateActivity, createTeamsInbound, type TeamsInbound } from '../../connectors/teams/inbound.js';
import type { TeamsEvent } from '../../connectors/teams/parse.js';
import { invokePhase } from '../teams/phases.js';

/** What the messaging endpoint answers: for an invoke, its status and body are the invoke response. */
export interface TeamsAnswer {
  status: number;
  body?: unknown;
}

/**
 * Where the Teams surface plugs in: it gets every authenticated activity (its serviceUrl already checked)
 * with what it means, and answers after its own commit. Undefined means "nothing to say" (200, or 501 for an invoke).
 */
export interface TeamsActivityHandler {
  handle(event: Exclude<TeamsEvent, { kind: 'ignored' }>, activity: Activity, log: FastifyBaseLogger): Promise<TeamsAnswer | undefined>;
}

const handlers = new WeakMap<Hub, TeamsActivityHandler>();
const inbounds = new WeakMap<Hub, TeamsInbound>();

export function setTeamsActivityHandler(hub: Hub, handler: TeamsActivityHandler): void {
  handlers.set(hub, handler);
}

/** The hub's inbound verifier, created on first use: Bot Framework's keys are cached per hub. */
export function teamsInboundOf(hub: Hub): TeamsInbound {
  let inbound = inbounds.get(hub);
  if (!inbound) inbounds.set(hub, (inbound = createTeamsInbound(hub.config.teams)));
  return inbound;
}

/** The invoke answer for an invoke nobody handles (Bot Framework's NotImplemented). */
function notImplemented(reason: string): TeamsAnswer {
  return { status: 501, body: { statusCode: 501, type: 'application/vnd.microsoft.error', value: { code: 'NotImplemented', message: reason } } };
}

/**
 * `POST /webhooks/teams`, the bot's messaging endpoint. It exists on every hub, Teams configured or not, and
 * authenticates before it looks anything up: a request without a valid Bot Framework token is 401 with a code
 * (connectors/teams/errors.ts) and leaves nothing behind. Unknown activities answer 200 with a logged reason,
 * unknown invokes 501, never 5xx (Teams stops delivering to bots that fail).
 */
const teamsWebhook: FastifyPluginAsync = async (app) => {
  const { hub } = app;
  // Raw bytes in this scope only; the JSON API keeps its parser.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: hub.config.bodyLimit }, (_req, body, done) => done(null, body));

  app.post('/webhooks/teams', { schema: { tags: ['webhooks'], hide: true } }, async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let authenticated;
    try {
      authenticated = await authenticateActivity(req.headers.authorization, raw, teamsInboundOf(hub));
    } catch (err) {
      if (err instanceof TeamsAuthError) throw new HubError(err.statusCode, err.code, err.message);
      throw err;
    }
    const { event, activity } = authenticated;
    if (activity.type === 'invoke') invokePhase(activity.id, 'authenticated');
    if (event.kind === 'ignored') {
      req.log.info({ teams: { type: event.type, name: event.name, reason: event.reason } }, 'teams activity ignored');
      const answer = event.invoke ? notImplemented(event.reason) : { status: 200, body: {} };
      return reply.status(answer.status).send(answer.body);
    }
    const handler = handlers.get(hub);
    // A card click's invoke is waited on in Teams: jobs it queues (its card's sync) start once it is answered.
    const waited = activity.type === 'invoke';
    if (waited) hub.foreground.weigh(reply.raw, 'waited');
    let answer: TeamsAnswer | undefined;
    try {
      answer = handler ? await handler.handle(event, activity, req.log) : undefined;
    } finally {
      // After this turn, in which the answer is written.
      if (waited) setImmediate(() => hub.foreground.weigh(reply.raw, 'plain'));
    }
    if (answer) return reply.status(answer.status).send(answer.body ?? {});
    if (activity.type === 'invoke') return reply.status(501).send(notImplemented(`no Teams surface on this hub handles ${event.kind}`).body);
    if (!handler) req.log.info({ teams: { kind: event.kind } }, 'teams activity accepted; no Teams surface installed');
    return reply.status(200).send({});
  });
};

export default teamsWebhook;
