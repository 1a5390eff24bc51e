import { AuthError, ConnectorError, PermanentError, RateLimitError, TransientError } from '../core/errors.js';
import { tokenEndpoint, type TeamsAppConfig } from './config.js';
import { threadConversationId } from './activity.js';
import { trustedServiceUrl } from './service-url.js';

/** Where the bot's outbound (Bot Connector) token comes from. */
export interface TokenSource {
  token(): Promise<string>;
}

/** Teams asks bots to retry 429, 412, 502 and 504 with backoff; the answer's Retry-After is kept (ms). */
export class TeamsRetryableError extends RateLimitError {
  constructor(
    readonly status: number,
    retryAfterMs: number,
  ) {
    super('teams', retryAfterMs);
    // 412/502/504 are Teams being busy, not a rate limit of ours.
    if (status !== 429) (this as { code: string }).code = 'teams_service_busy';
    this.message = `Teams answered ${status}; retry after ${retryAfterMs} ms`;
    this.name = 'TeamsRetryableError';
  }
}

/** The bot is not (or no longer) in the team or chat roster: removed, or a channel bots cannot post in. */
export class TeamsRosterRefusedError extends PermanentError {
  constructor(message: string) {
    super('teams', message, 'teams_roster_refused');
    this.name = 'TeamsRosterRefusedError';
  }
}

/** Client-credentials with a client secret against the configured authority; the token is cached until 5 minutes before expiry. */
export class ClientSecretTokenSource implements TokenSource {
  private cached?: { token: string; expiresAt: number };
  private inflight?: Promise<string>;

  constructor(
    private readonly config: Pick<TeamsAppConfig, 'appId' | 'tenantId' | 'authority' | 'oauthScope'> & { secret: string },
    private readonly opts: { fetch?: typeof fetch; now?: () => number } = {},
  ) {}

  async token(): Promise<string> {
    const now = (this.opts.now ?? Date.now)();
    if (this.cached && this.cached.expiresAt - 5 * 60_000 > now) return this.cached.token;
    this.inflight ??= this.fetchToken(now).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetchToken(now: number): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.config.appId ?? '', client_secret: this.config.secret, scope: this.config.oauthScope });
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(tokenEndpoint(this.config), { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      throw new TransientError('teams', `token endpoint unreachable: ${(err as Error).message}`, 'teams_token_unavailable');
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (!res.ok || !body.access_token) {
      if (res.status >= 500 || res.status === 429) throw new TeamsRetryableError(res.status, retryAfterMs(res.headers.get('retry-after')));
      throw new AuthError('teams', `the app's credentials were refused: ${body.error ?? res.status} ${body.error_description ?? ''}`.trim());
    }
    this.cached = { token: body.access_token, expiresAt: now + (body.expires_in ?? 3600) * 1000 };
    return body.access_token;
  }
}

/** The token source the configuration asks for; certificate and managed identity go through MSAL / Azure Identity, loaded only then. */
export function tokenSourceFor(config: TeamsAppConfig, opts: { fetch?: typeof fetch; now?: () => number } = {}): TokenSource {
  if (!config.appId) throw new ConnectorError('this hub has no Teams app (HUMMDESK_TEAMS_APP_ID is not set)', 'teams', 'teams_not_configured');
  const credential = config.credential;
  if (credential.kind === 'secret') {
    if (!credential.secret) throw new ConnectorError('HUMMDESK_TEAMS_APP_PASSWORD is not set', 'teams', 'teams_not_configured');
    return new ClientSecretTokenSource({ ...config, secret: credential.secret }, opts);
  }
  let source: Promise<TokenSource> | undefined;
  return {
    token: () => {
      source ??= import('./msal.js').then((m) => m.sdkTokenSource(config));
      return source.then((s) => s.token());
    },
  };
}

/** Retry-After in seconds or as an HTTP date, in ms; a missing or unreadable one means 1 s. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (!header) return 1000;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : 1000;
}

export interface OutboundActivity {
  type?: 'message';
  text?: string;
  textFormat?: 'plain' | 'markdown' | 'xml';
  attachments?: { contentType: string; content?: unknown; contentUrl?: string; name?: string }[];
  summary?: string;
  entities?: unknown[];
  channelData?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface TeamsMember {
  id: string;
  name?: string;
  aadObjectId?: string;
  email?: string;
  userPrincipalName?: string;
  tenantId?: string;
}

/**
 * The Bot Connector v3 REST API, for one app. Every call refuses a serviceUrl off the allowlist before the
 * token leaves; answers map to typed errors: 429/412/502/504 → TeamsRetryableError (Retry-After), 403
 * BotNotInConversationRoster → TeamsRosterRefusedError, 401 → AuthError, other 4xx → PermanentError, network and other 5xx → TransientError.
 */
export class TeamsConnectorClient {
  constructor(
    private readonly tokens: TokenSource,
    private readonly opts: { testServiceOrigins?: string[]; fetch?: typeof fetch; timeoutMs?: number } = {},
  ) {}

  /** A new thread in a (standard) channel: its root activity; the thread is `<channel>;messageid=<activityId>`. */
  async createChannelThread(serviceUrl: string, p: { channelId: string; tenantId: string; activity: OutboundActivity; botId?: string }): Promise<{ conversationId: string; activityId: string }> {
    const body = { isGroup: true, channelData: { channel: { id: p.channelId }, tenant: { id: p.tenantId } }, tenantId: p.tenantId, activity: { type: 'message', ...p.activity }, ...(p.botId ? { bot: { id: p.botId } } : {}) };
    const r = await this.call<{ id: string; activityId?: string }>(serviceUrl, 'POST', 'v3/conversations', body);
    const activityId = r.activityId ?? r.id.split(';messageid=')[1] ?? '';
    return { conversationId: r.id, activityId };
  }

  /** A reply in the thread `<channel>;messageid=<root>`. */
  replyInThread(serviceUrl: string, channelId: string, rootId: string, activity: OutboundActivity): Promise<{ id: string }> {
    return this.send(serviceUrl, threadConversationId(channelId, rootId), activity);
  }

  send(serviceUrl: string, conversationId: string, activity: OutboundActivity): Promise<{ id: string }> {
    return this.call(serviceUrl, 'POST', `v3/conversations/${encodeURIComponent(conversationId)}/activities`, { type: 'message', ...activity });
  }

  replyTo(serviceUrl: string, conversationId: string, activityId: string, activity: OutboundActivity): Promise<{ id: string }> {
    return this.call(serviceUrl, 'POST', `v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`, { type: 'message', replyToId: activityId, ...activity });
  }

  update(serviceUrl: string, conversationId: string, activityId: string, activity: OutboundActivity): Promise<{ id: string }> {
    return this.call(serviceUrl, 'PUT', `v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`, { type: 'message', id: activityId, ...activity });
  }

  async delete(serviceUrl: string, conversationId: string, activityId: string): Promise<void> {
    await this.call(serviceUrl, 'DELETE', `v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`);
  }

  members(serviceUrl: string, conversationId: string): Promise<TeamsMember[]> {
    return this.call(serviceUrl, 'GET', `v3/conversations/${encodeURIComponent(conversationId)}/members`);
  }

  /** The team's channels; the General channel has the team's id and no name. */
  async teamChannels(serviceUrl: string, teamId: string): Promise<{ id: string; name?: string }[]> {
    const r = await this.call<{ conversations: { id: string; name?: string }[] }>(serviceUrl, 'GET', `v3/teams/${encodeURIComponent(teamId)}/conversations`);
    return r.conversations ?? [];
  }

  private async call<T>(serviceUrl: string, method: string, path: string, body?: unknown): Promise<T> {
    if (!trustedServiceUrl(serviceUrl, this.opts.testServiceOrigins)) {
      throw new PermanentError('teams', `serviceUrl ${JSON.stringify(serviceUrl)} is not a Microsoft Bot Framework host`, 'teams_service_url_untrusted');
    }
    const token = await this.tokens.token();
    const url = `${serviceUrl.replace(/\/?$/, '/')}${path}`;
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(url, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      // Sent or not is unknown: the caller decides (a write is not blindly repeated).
      throw new TransientError('teams', `Bot Connector unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.ok) return (text ? JSON.parse(text) : {}) as T;
    const error = (() => {
      try {
        return (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      } catch {
        return undefined;
      }
    })();
    const what = `${method} ${path}: ${res.status} ${error?.code ?? ''} ${error?.message ?? ''}`.trim();
    if ([429, 412, 502, 504].includes(res.status)) throw new TeamsRetryableError(res.status, retryAfterMs(res.headers.get('retry-after')));
    // Teams says which 403 is the roster: the bot was removed, or the channel is one bots cannot post in.
    if (res.status === 403 && error?.code === 'BotNotInConversationRoster') throw new TeamsRosterRefusedError(what);
    if (res.status === 403) throw new PermanentError('teams', what, 'teams_forbidden');
    if (res.status === 401) throw new AuthError('teams', what);
    if (res.status === 413) throw new PermanentError('teams', what, 'teams_message_too_large');
    if (res.status === 404) throw new PermanentError('teams', what, 'teams_not_found');
    if (res.status < 500) throw new PermanentError('teams', what, 'teams_bad_request');
    throw new TransientError('teams', what);
  }
}
