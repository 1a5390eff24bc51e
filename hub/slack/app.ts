import type { FastifyBaseLogger } from 'fastify';
import { verifyInbound } from '../services/verify-inbound.js';
import type { ChannelInstallation, WebhookRequest } from '../../connectors/core/types.js';
import { HubError } from '../errors.js';
import type { Hub } from '../context.js';
import { SlackClients } from '../../connectors/slack/client.js';
import { SlackConnector } from '../../connectors/slack/connector.js';
import { SlackDesk } from './desk.js';
import { SlackSurface } from './surface.js';
import { slackConfig, triageChannelsOf } from '../../connectors/slack/config.js';
import { decodeSlackPayload, teamOf, type SlackMessageEvent, type SlackPayload } from '../../connectors/slack/payload.js';
import { installationKeyOf } from '../../connectors/slack/socket-mode.js';

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
    this.clients = new SlackClients({ slackApiUrl: options.slackApiUrl });
    this.connector = new SlackConnector(this.clients, this.now, {
      reconnectDelayMs: options.socketReconnectDelayMs,
      onError: (err) => this.log.warn({ err }, 'slack socket mode: connection or envelope failed'),
      log: (level, message) => this.log[level]({ socketMode: true }, `slack socket mode: ${message}`),
      signingSecret: options.signingSecret,
      appToken: options.appToken,
    });
    this.connector.handleEnvelopesWith((req) => this.handleEnvelope(req));
    const conversationUrl = (id: string) => `${hub.config.publicUrl}/#/conversations/${id}`;
    this.surface = new SlackSurface({ db: hub.db, box: hub.box, clients: this.clients, blobs: hub.blobs, conversationUrl });
    this.desk = new SlackDesk({ db: hub.db, clients: this.clients, conversations: hub.conversations, conversationUrl, now: this.now });
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
    if (payload.kind === 'url_verification') return { status: 200, body: payload.challenge, contentType: 'text/plain' };
    const team = teamOf(payload);
    const install = team ? await this.hub.installations.find({ kind: 'slack', externalKey: team }) : undefined;
    if (!install) throw new HubError(404, 'channel_not_found', 'no Slack installation for this workspace');
    const wreq: WebhookRequest = { ...req, channel: install, now: this.now };
    await verifyInbound(this.connector, wreq);
    return this.route(install, payload, wreq);
  }

  /**
   * A Socket Mode envelope, as the request it stands for. The WebSocket itself is authenticated
   * (app-level token), so there is no signature; the workspace still comes from the payload.
   */
  async handleEnvelope(req: WebhookRequest): Promise<Record<string, unknown> | undefined> {
    const payload = decodeSlackPayload(req.headers, req.rawBody);
    // Any connection of the app may carry any workspace's envelope: the installation comes from the payload.
    const team = installationKeyOf(payload);
    const install = team ? await this.hub.installations.find({ kind: 'slack', externalKey: team }) : undefined;
    // Acknowledged and dropped: a workspace we do not serve would otherwise be redelivered forever.
    if (!install) return undefined;
    const answer = await this.route(install, payload, { ...req, channel: install, now: this.now });
    return payload.kind !== 'event' && answer.body && typeof answer.body === 'object' ? (answer.body as Record<string, unknown>) : undefined;
  }

  private async route(install: ChannelInstallation, payload: SlackPayload, wreq: WebhookRequest): Promise<HttpAnswer> {
    switch (payload.kind) {
      case 'event': {
        const ev = payload.envelope.event;
        if (ev.type === 'message' && triageChannelsOf(slackConfig(install)).has(String(ev.channel))) {
          const result = await this.withInAckOrQueued(this.desk.threadReply(install, ev as unknown as SlackMessageEvent));
          return { status: 200, body: { ok: true, results: [result] } };
        }
        if (ev.type === 'app_home_opened' && typeof ev.user === 'string' && (ev.tab ?? 'home') === 'home') {
          await this.withinAck(this.desk.homeOpened(install, ev.user).then(() => 'published'), 'queued');
          return { status: 200, body: { ok: true } };
        }
        // Customer channels: the normal path, acknowledged only after the commit.
        const outcomes = await this.hub.ingest.ingest(install, this.connector.parse(wreq));
        return { status: 200, body: { ok: true, results: outcomes.map((o) => o.result) } };
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
        return { status: 200, body: { ok: true, results: ['ignored'] } };
    }
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
