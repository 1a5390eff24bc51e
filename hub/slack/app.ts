import type { FastifyBaseLogger } from 'fastify';
import { verifyInbound } from '../services/verify-inbound.js';
import type { ChannelInstallation, InboundEvent, NormalizedMessage, WebhookRequest } from '../../connectors/core/types.js';
import { HubError } from '../errors.js';
import type { Hub } from '../context.js';
import { SlackClients } from '../../connectors/slack/client.js';
import { SlackConnector } from '../../connectors/slack/connector.js';
import { SlackDesk } from './desk.js';
import { SlackSurface } from './surface.js';
import { slackConfig, triageChannelsOf } from '../../connectors/slack/config.js';
import { decodeSlackPayload, type SlackEventEnvelope, type SlackMessageEvent, type SlackPayload } from '../../connectors/slack/payload.js';
import { installationKeys, installationRoute } from '../../connectors/slack/routing.js';
import { withAccount } from '../../storage/session.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { disconnectInstallation, isFarewell } from './disconnect.js';

export interface SlackAppOptions {
  /** Web API base ending in `/` (tests: the emulator). */
  slackApiUrl?: string;
  /** OAuth app credentials for the install flow. */
  clientId?: string;
  clientSecret?: string;
  /** The app's signing secret: verifies every workspace's requests (an installation's own is used only without it). */
  signingSecret?: string;
  /** The app's app-level token (xapp-…) for Socket Mode installations that have none of their own. */
  appToken?: string;
  authorizeUrl?: string;
  scopes?: string[];
  /** Time budget before Slack's 3 s acknowledgement deadline; work still running then finishes in the background. */
  ackBudgetMs?: number;
  /** Socket Mode: the client's pong deadline, also @slack/socket-mode's reconnect back-off step (at least 1 s; default 5 s). */
  socketReconnectDelayMs?: number;
  /** How long a Web API call may take before the client gives up (default 10 s); its outcome is then unknown. */
  apiTimeoutMs?: number;
  now?: () => Date;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  contentType?: string;
}

export const BOT_SCOPES = [
  'channels:history', 'groups:history', 'channels:read', 'groups:read', 'channels:join', 'chat:write', 'chat:write.customize',
  'commands', 'files:read', 'files:write', 'users:read', 'users:read.email',
];

/**
 * The Slack app inside the hub: the one Request URL's dispatcher (customer events → ingest; agent
 * thread replies, buttons, modals, commands → desk), the surface, and the WebClients they share.
 */
export class SlackApp {
  readonly clients: SlackClients;
  readonly connector: SlackConnector;
  readonly surface: SlackSurface;
  readonly desk: SlackDesk;
  readonly now: () => Date;
  private readonly background = new Set<Promise<unknown>>();

  constructor(
    private readonly hub: Hub,
    readonly options: SlackAppOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.clients = new SlackClients({ slackApiUrl: options.slackApiUrl, ...(options.apiTimeoutMs ? { timeoutMs: options.apiTimeoutMs } : {}) });
    this.connector = new SlackConnector(this.clients, this.now, {
      reconnectDelayMs: options.socketReconnectDelayMs,
      onError: (err) => this.log.warn({ err }, 'slack socket mode: connection or envelope failed'),
      log: (level, message) => this.log[level]({ socketMode: true }, `slack socket mode: ${message}`),
      signingSecret: options.signingSecret,
      appToken: options.appToken,
    });
    this.connector.handleEnvelopesWith((req) => this.handleEnvelope(req));
    const conversationUrl = (id: string) => `${hub.config.publicUrl}/#/conversations/${id}`;
    this.surface = new SlackSurface({ db: hub.db, box: hub.box, clients: this.clients, blobs: hub.blobs, conversationUrl, onOutbox: () => hub.runner.kick() });
    this.desk = new SlackDesk({ db: hub.db, clients: this.clients, conversations: hub.conversations, conversationUrl, now: this.now, bus: hub.bus, onOutbox: () => hub.runner.kick() });
  }

  /** Resolves once work that outlived its request's acknowledgement is done (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.background.size) await Promise.allSettled([...this.background]);
  }

  /**
   * Runs `work` within the ack budget: a failure inside it fails the request (Slack retries events);
   * past it, answers `fallback` and lets the work finish in the background, failures logged.
   */
  private async withinAck<T>(work: Promise<T>, fallback: T): Promise<T> {
    const logged = work.catch((err: unknown) => this.log.error({ err }, 'slack work failed after its acknowledgement'));
    this.background.add(logged);
    void logged.finally(() => this.background.delete(logged));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), this.options.ackBudgetMs ?? 2500)));
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private get log(): FastifyBaseLogger {
    return this.hub.log as unknown as FastifyBaseLogger;
  }

  /** One Request URL for events, interactivity and slash commands. */
  async handle(req: WebhookRequest): Promise<HttpAnswer> {
    const payload = decodeSlackPayload(req.headers, req.rawBody);
    // Slack checking our certificate: unsigned, answered as Bolt does, nothing in it is read.
    if (payload.kind === 'ssl_check') return { status: 200, body: '', contentType: 'text/plain' };
    if (payload.kind === 'url_verification') return { status: 200, body: payload.challenge, contentType: 'text/plain' };
    const install = await this.installationFor(payload);
    if (!install) {
      // An uninstall we already applied (a retry, or after the row was disabled): nothing left to do or to reveal.
      if (isFarewell(payload)) {
        this.log.info({ event: payload.kind === 'event' ? payload.envelope.event.type : payload.kind }, 'slack: farewell event for no connected installation');
        return { status: 200, body: { ok: true, results: ['ignored'] } };
      }
      throw new HubError(404, 'channel_not_found', 'no Slack installation for this workspace');
    }
    const wreq: WebhookRequest = { ...req, channel: install, now: this.now };
    await verifyInbound(this.connector, wreq);
    return this.route(install, payload);
  }

  /**
   * A Socket Mode envelope, as the request it stands for. The WebSocket itself is authenticated
   * (app-level token), so there is no signature; the installation still comes from the payload.
   */
  async handleEnvelope(req: WebhookRequest): Promise<Record<string, unknown> | undefined> {
    const payload = decodeSlackPayload(req.headers, req.rawBody);
    const install = await this.installationFor(payload);
    // Acknowledged and dropped: a workspace we do not serve would otherwise be redelivered forever.
    if (!install) {
      this.log.info({ kind: payload.kind }, 'slack socket mode: envelope for no connected installation acknowledged and dropped');
      return undefined;
    }
    const answer = await this.route(install, payload);
    return payload.kind !== 'event' && answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>) : undefined;
  }

  /**
   * The installation a payload is for: by `authorizations` (events), `view.app_installed_team_id`
   * (views), then the workspace (connectors/slack/routing.ts), tried key by key.
   */
  async installationFor(payload: SlackPayload): Promise<ChannelInstallation | undefined> {
    for (const key of installationKeys(installationRoute(payload))) {
      const install = await this.hub.installations.find({ kind: 'slack', externalKey: key });
      if (install) return install;
    }
    return undefined;
  }

  private async route(install: ChannelInstallation, payload: SlackPayload): Promise<HttpAnswer> {
    switch (payload.kind) {
      case 'event': {
        const results = await this.handleEvent(install, payload.envelope);
        return { status: 200, body: { ok: true, results } };
      }
      case 'app_rate_limited': {
        // Slack dropped this minute's events for us: read it back with conversations.history (a job, so it survives a restart).
        this.log.warn({ installationId: install.id, minute: payload.minute }, 'slack: app_rate_limited, events of a minute were not delivered; backfilling it');
        await withAccount(this.hub.db, install.accountId, (tx) => enqueue(tx, install.accountId, 'slack.backfill', { installationId: install.id, minute: payload.minute }));
        this.hub.runner.kick();
        return { status: 200, body: { ok: true, results: ['backfill_queued'] } };
      }
      case 'interaction': {
        const body = await this.withinAck(this.desk.interaction(install, payload.interaction), undefined);
        return { status: 200, body: body ?? '', contentType: body ? 'application/json' : 'text/plain' };
      }
      case 'command': {
        const work = this.desk.command(install, payload.command);
        const body = await this.withinAck(work, undefined);
        if (body) return { status: 200, body };
        // Too slow for the ack: answer now, deliver the result to response_url when it is ready.
        const responseUrl = payload.command.response_url;
        if (responseUrl && this.responseUrlAllowed(responseUrl)) {
          const later = work.then((answer) => fetch(responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer) })).catch((err: unknown) => this.log.error({ err }, 'slack response_url post failed'));
          this.background.add(later);
          void later.finally(() => this.background.delete(later));
        }
        return { status: 200, body: { response_type: 'ephemeral', text: 'Working on it…' } };
      }
      default:
        // Anything else Slack may send is acknowledged, so Slack neither retries it nor counts it as a failure.
        this.log.info({ installationId: install.id, reason: payload.kind === 'unknown' ? payload.reason : payload.kind }, 'slack: payload not handled');
        return { status: 200, body: { ok: true, results: ['ignored'] } };
    }
  }

  /** One Events API event, from the Request URL, Socket Mode or a backfill; the results say what became of it. */
  async handleEvent(install: ChannelInstallation, envelope: SlackEventEnvelope): Promise<string[]> {
    const ev = envelope.event;
    if (ev.type === 'app_uninstalled' || ev.type === 'tokens_revoked') {
      const done = await disconnectInstallation(this.hub, install, ev);
      return [done ? 'disconnected' : 'ignored'];
    }
    if (ev.type === 'message' && triageChannelsOf(slackConfig(install)).has(String(ev.channel))) {
      return [await this.withInAckOrQueued(this.desk.threadReply(install, ev as unknown as SlackMessageEvent))];
    }
    if (ev.type === 'app_home_opened' && typeof ev.user === 'string' && (ev.tab ?? 'home') === 'home') {
      await this.withinAck(this.desk.homeOpened(install, ev.user).then(() => 'published'), 'queued');
      return ['ok'];
    }
    // Customer channels: the normal path, acknowledged only after the commit.
    return this.ingest(install, this.connector.parseEnvelope(install, envelope));
  }

  /** Our staff's messages are our side of a conversation (desk); everything else goes through ingest. */
  private async ingest(install: ChannelInstallation, events: InboundEvent[]): Promise<string[]> {
    const results: string[] = new Array(events.length);
    const rest: { at: number; e: InboundEvent }[] = [];
    for (const [at, e] of events.entries()) {
      if (e.type === 'message' && e.message.sender.staff) results[at] = await this.desk.staffMessage(install, e.message as NormalizedMessage);
      else rest.push({ at, e });
      if (e.type === 'ignored') this.log.debug({ installationId: install.id, reason: e.reason }, 'slack: event ignored');
    }
    if (rest.length) {
      const outcomes = await this.hub.ingest.ingest(install, rest.map((r) => r.e));
      outcomes.forEach((o, k) => (results[rest[k]!.at] = o.result));
    }
    return results;
  }

  private withInAckOrQueued(work: Promise<string>): Promise<string> {
    return this.withinAck(work, 'queued');
  }

  /** response_url comes from a verified payload, but is still only ever Slack's (or the configured API host). */
  private responseUrlAllowed(url: string): boolean {
    try {
      const u = new URL(url);
      if (u.protocol === 'https:' && u.hostname === 'hooks.slack.com') return true;
      return !!this.options.slackApiUrl && u.origin === new URL(this.options.slackApiUrl).origin;
    } catch {
      return false;
    }
  }
}
