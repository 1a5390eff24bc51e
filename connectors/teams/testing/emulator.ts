import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generateKeyPairSync, randomBytes, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { splitConversationId } from '../activity.js';

/**
 * Test support, not product code: a local stand-in for the Bot Framework services a Teams bot talks to.
 * Inbound side: OpenID metadata and JWKS (keys with `endorsements`) the bot verifies activities with; the
 * driver signs activities with these keys. Outbound side: an Entra-like client-credentials token endpoint
 * (and the discovery documents MSAL reads) and the v3 Bot Connector REST API under `serviceUrl`, checking
 * bearer tokens, conversation and root ids, the roster, card shape, size and per-thread rate limits the
 * way Teams documents them, answering with the Bot Connector's `{ error: { code, message } }`.
 */

export interface SigningKeyPair {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  endorsements: string[];
}

export interface EmulatedChannel {
  id: string;
  name: string;
  /** Bots can post only in standard channels. */
  membershipType?: 'standard' | 'private' | 'shared';
}

export interface EmulatedMember {
  id: string;
  name: string;
  aadObjectId: string;
  email?: string;
  userPrincipalName?: string;
}

export interface EmulatedTeam {
  id: string;
  name: string;
  tenantId: string;
  aadGroupId: string;
  channels: EmulatedChannel[];
  members: EmulatedMember[];
  /** false after the bot was removed: the roster refuses it (403) from then on. */
  botInstalled: boolean;
}

export interface EmulatedActivity {
  /** The conversation without `;messageid=`: a channel, or a personal chat. */
  conversationId: string;
  /** The thread root in a channel (equal to `id` for the root itself). */
  rootId?: string;
  id: string;
  type: string;
  text?: string;
  textFormat?: string;
  attachments?: { contentType: string; content?: unknown }[];
  fromBot: boolean;
  /** The Bot Framework app that posted it (bot posts only). */
  appId?: string;
  edits: number;
  deleted: boolean;
  replyToId?: string;
  raw: Record<string, unknown>;
}

export interface RecordedCall {
  method: string;
  path: string;
  status: number;
  code?: string;
  /** The thread (`<conversation>[;messageid=<root>]`) the call wrote to, for limits. */
  thread?: string;
}

interface EmulatedConversation {
  id: string;
  type: 'channel' | 'personal';
  teamId?: string;
  tenantId: string;
  members: EmulatedMember[];
}

export interface EmulatorOptions {
  appId?: string;
  appPassword?: string;
  /** The app's home tenant; a single-tenant app must ask this tenant's authority for tokens. */
  tenantId?: string;
  /** Every request waits a random time in this range (ms), like the real service. Default [50, 300]; [0, 0] off. */
  latencyMs?: [number, number];
  /** Per-thread send limits (Teams: 7/1 s, 8/2 s, 60/30 s, 1800/h). Default on. */
  limits?: boolean;
  /** Largest request body the connector accepts (Teams: about 40 KB). */
  maxBodyBytes?: number;
  /** Host names the discovery documents give MSAL (it insists on https; a network client routes them here). */
  publicAuthority?: string;
  now?: () => number;
}

/** The per-thread windows Teams enforces on a bot's writes. */
export const THREAD_LIMITS: { windowMs: number; max: number }[] = [
  { windowMs: 1000, max: 7 },
  { windowMs: 2000, max: 8 },
  { windowMs: 30_000, max: 60 },
  { windowMs: 3600_000, max: 1800 },
];

class ConnectorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const ADAPTIVE = 'application/vnd.microsoft.card.adaptive';

function b64(json: unknown): string {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

/** An RS256 JWT signed with `key`. */
export function signJwt(claims: Record<string, unknown>, key: { kid: string; privateKey: KeyObject }): string {
  const head = `${b64({ alg: 'RS256', kid: key.kid, typ: 'JWT', x5t: key.kid })}.${b64(claims)}`;
  return `${head}.${sign('RSA-SHA256', Buffer.from(head), key.privateKey).toString('base64url')}`;
}

export function newKeyPair(endorsements: string[], kid = randomBytes(12).toString('base64url')): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey, endorsements };
}

export class BotConnectorEmulator {
  readonly calls: RecordedCall[] = [];
  /** Every activity posted in any conversation, by the bot or by people (postAsUser). */
  readonly activities: EmulatedActivity[] = [];
  readonly teams = new Map<string, EmulatedTeam>();
  /** Keys published in the JWKS (the first is Teams'); unpublished keys sign "unknown key" tokens. */
  readonly keys: SigningKeyPair[];
  /** Signs the emulator's own access tokens (those bots send back to the connector). */
  private readonly tokenKey = newKeyPair([], 'emulator-token-key');
  private readonly conversations = new Map<string, EmulatedConversation>();
  private readonly sends = new Map<string, number[]>();
  private readonly scripted: { status: number; retryAfter?: number; code: string; afterWrite?: boolean }[] = [];
  private readonly sockets = new Set<Socket>();
  private seq = 0;
  /** Tokens the token endpoint issued. */
  tokensIssued = 0;
  /** How often the OpenID metadata was read. */
  metadataReads = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly opts: Required<Omit<EmulatorOptions, 'tenantId'>> & { tenantId?: string },
  ) {
    this.keys = [newKeyPair(['msteams']), newKeyPair(['webchat', 'directline'])];
  }

  static async start(opts: EmulatorOptions = {}): Promise<BotConnectorEmulator> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const emulator = new BotConnectorEmulator(server, `http://127.0.0.1:${port}`, {
      appId: opts.appId ?? '00000000-0000-4000-8000-00000000b07a',
      appPassword: opts.appPassword ?? 'emulated-client-secret',
      tenantId: opts.tenantId,
      latencyMs: opts.latencyMs ?? [50, 300],
      limits: opts.limits ?? true,
      maxBodyBytes: opts.maxBodyBytes ?? 40 * 1024,
      publicAuthority: opts.publicAuthority ?? 'https://login.microsoftonline.com',
      now: opts.now ?? Date.now,
    });
    server.on('connection', (s) => {
      emulator.sockets.add(s);
      s.on('close', () => emulator.sockets.delete(s));
    });
    server.on('request', (req, res) => void emulator.handle(req, res));
    return emulator;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get appId(): string {
    return this.opts.appId;
  }

  /** Our bot as Teams addresses it. */
  get botId(): string {
    return `28:${this.opts.appId}`;
  }

  /** The serviceUrl activities carry; the v3 API lives under it. */
  get serviceUrl(): string {
    return `${this.url}/amer/`;
  }

  get openIdMetadataUrl(): string {
    return `${this.url}/v1/.well-known/openidconfiguration`;
  }

  /** The authority (`{tenant}` placeholder as in HUMMDESK_TEAMS_AUTHORITY) of the token endpoint. */
  get authority(): string {
    return `${this.url}/{tenant}`;
  }

  /** Environment that points a hub's Teams app at this emulator. */
  hubEnv(): Record<string, string> {
    return {
      HUMMDESK_TEAMS_APP_ID: this.opts.appId,
      HUMMDESK_TEAMS_APP_PASSWORD: this.opts.appPassword,
      ...(this.opts.tenantId ? { HUMMDESK_TEAMS_APP_TENANT_ID: this.opts.tenantId } : {}),
      HUMMDESK_TEAMS_OPENID_METADATA_URL: this.openIdMetadataUrl,
      HUMMDESK_TEAMS_AUTHORITY: this.authority,
      HUMMDESK_TEAMS_TEST_SERVICE_ORIGINS: this.url,
      HUMMDESK_TEAMS_GRAPH_URL: `${this.url}/graph`,
    };
  }

  /** Replaces Teams' signing key (Bot Framework rotates them); the old one is no longer published. */
  rotateKey(): SigningKeyPair {
    const next = newKeyPair(['msteams']);
    this.keys[0] = next;
    return next;
  }

  addTeam(t: Partial<EmulatedTeam> & { id?: string } = {}): EmulatedTeam {
    const id = t.id ?? `19:${randomBytes(16).toString('hex')}@thread.tacv2`;
    const team: EmulatedTeam = {
      id,
      name: t.name ?? 'Support',
      tenantId: t.tenantId ?? this.opts.tenantId ?? randomUUID(),
      aadGroupId: t.aadGroupId ?? randomUUID(),
      // The General channel has the team's id.
      channels: t.channels ?? [{ id, name: 'General', membershipType: 'standard' }],
      members: t.members ?? [],
      botInstalled: t.botInstalled ?? true,
    };
    this.teams.set(id, team);
    for (const ch of team.channels) this.conversations.set(ch.id, { id: ch.id, type: 'channel', teamId: id, tenantId: team.tenantId, members: team.members });
    return team;
  }

  addChannel(teamId: string, ch: Partial<EmulatedChannel> & { name: string }): EmulatedChannel {
    const team = this.team(teamId);
    const channel: EmulatedChannel = { id: ch.id ?? `19:${randomBytes(16).toString('hex')}@thread.tacv2`, name: ch.name, membershipType: ch.membershipType ?? 'standard' };
    team.channels.push(channel);
    this.conversations.set(channel.id, { id: channel.id, type: 'channel', teamId, tenantId: team.tenantId, members: team.members });
    return channel;
  }

  addMember(teamId: string, m: Partial<EmulatedMember> & { name: string }): EmulatedMember {
    const member: EmulatedMember = { id: m.id ?? `29:${randomBytes(24).toString('base64url')}`, aadObjectId: m.aadObjectId ?? randomUUID(), ...m };
    this.team(teamId).members.push(member);
    return member;
  }

  /** The bot is removed from the team: later calls into its conversations are refused (403). */
  removeBot(teamId: string): void {
    this.team(teamId).botInstalled = false;
  }

  team(teamId: string): EmulatedTeam {
    const t = this.teams.get(teamId);
    if (!t) throw new Error(`no emulated team ${teamId}`);
    return t;
  }

  /** A person's post in a channel (a new thread) or a thread reply, so bots have real roots to answer. */
  postAsUser(channelId: string, text: string, opts: { rootId?: string; from?: EmulatedMember } = {}): EmulatedActivity {
    const id = this.nextId();
    const a: EmulatedActivity = { conversationId: channelId, rootId: opts.rootId ?? id, id, type: 'message', text, fromBot: false, edits: 0, deleted: false, raw: { from: opts.from } };
    this.activities.push(a);
    return a;
  }

  /**
   * The next `times` writes answer `status` (429, 412, 502, 504) with Retry-After when given. `afterWrite`:
   * the write is made first and then answered with the failure, as a gateway timeout after Teams posted.
   */
  failNext(status: number, opts: { retryAfter?: number; times?: number; code?: string; afterWrite?: boolean } = {}): void {
    for (let i = 0; i < (opts.times ?? 1); i++) this.scripted.push({ status, retryAfter: opts.retryAfter, afterWrite: opts.afterWrite, code: opts.code ?? (status === 429 ? 'TooManyRequests' : status === 412 ? 'PreconditionFailed' : 'ServiceError') });
  }

  /** Counts earlier writes on a thread as if they were sent at these times, so tests reach the hour window without 1,800 requests. */
  primeThread(thread: string, times: number[]): void {
    this.sends.set(thread, [...(this.sends.get(thread) ?? []), ...times].sort((a, b) => a - b));
  }

  /** The thread's activities: the root and its replies, in order. */
  thread(channelId: string, rootId: string): EmulatedActivity[] {
    return this.activities.filter((a) => a.conversationId === channelId && a.rootId === rootId && !a.deleted);
  }

  /** Root posts of a channel. */
  roots(channelId: string): EmulatedActivity[] {
    return this.activities.filter((a) => a.conversationId === channelId && a.rootId === a.id && !a.deleted);
  }

  private nextId(): string {
    // Teams message ids are millisecond timestamps; a counter keeps them unique.
    return String(this.opts.now() * 1000 + (++this.seq % 1000));
  }

  // ---------- HTTP ----------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const [lo, hi] = this.opts.latencyMs;
    if (hi > 0) await new Promise((r) => setTimeout(r, lo + Math.random() * (hi - lo)));
    const call: RecordedCall = { method, path: url.pathname, status: 200 };
    try {
      const out = await this.route(method, url, req, body, call);
      call.status = out.status ?? 200;
      this.calls.push(call);
      res.writeHead(call.status, { 'content-type': 'application/json', ...out.headers });
      res.end(out.body === undefined ? '' : JSON.stringify(out.body));
    } catch (err) {
      const e = err instanceof ConnectorError ? err : new ConnectorError(500, 'InternalError', (err as Error).message);
      call.status = e.status;
      call.code = e.code;
      this.calls.push(call);
      res.writeHead(e.status, { 'content-type': 'application/json', ...e.headers });
      // The token endpoint answers in OAuth's shape, the connector in Bot Framework's.
      res.end(JSON.stringify(url.pathname.includes('/oauth2/') ? { error: e.code, error_description: e.message } : { error: { code: e.code, message: e.message } }));
    }
  }

  private async route(method: string, url: URL, req: IncomingMessage, body: Buffer, call: RecordedCall): Promise<{ status?: number; body?: unknown; headers?: Record<string, string> }> {
    const path = url.pathname;
    // Inbound keys.
    if (method === 'GET' && path === '/v1/.well-known/openidconfiguration') {
      this.metadataReads++;
      return { body: { issuer: 'https://api.botframework.com', authorization_endpoint: 'https://invalid.botframework.com', jwks_uri: `${this.url}/v1/.well-known/keys`, id_token_signing_alg_values_supported: ['RS256'], token_endpoint_auth_methods_supported: ['private_key_jwt'] } };
    }
    if (method === 'GET' && path === '/v1/.well-known/keys') {
      return { body: { keys: this.keys.map((k) => ({ ...(k.publicKey.export({ format: 'jwk' }) as object), kty: 'RSA', use: 'sig', kid: k.kid, x5t: k.kid, endorsements: k.endorsements })) } };
    }
    // Entra: discovery documents MSAL reads, then the token endpoint.
    if (method === 'GET' && path === '/common/discovery/instance') {
      const host = new URL(this.opts.publicAuthority).host;
      return { body: { tenant_discovery_endpoint: `${this.opts.publicAuthority}/{tenant}/v2.0/.well-known/openid-configuration`, 'api-version': '1.1', metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }] } };
    }
    let m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (method === 'GET' && m) {
      const base = `${this.opts.publicAuthority}/${m[1]}`;
      return { body: { token_endpoint: `${base}/oauth2/v2.0/token`, authorization_endpoint: `${base}/oauth2/v2.0/authorize`, end_session_endpoint: `${base}/oauth2/v2.0/logout`, issuer: `https://login.microsoftonline.com/${m[1]}/v2.0`, jwks_uri: `${base}/discovery/v2.0/keys`, response_types_supported: ['code', 'id_token', 'token'], token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'] } };
    }
    m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (method === 'POST' && m) return { body: this.issueToken(m[1]!, new URLSearchParams(body.toString('utf8'))) };

    // Microsoft Graph: a channel's root messages, readable with the app's RSC consent (ChannelMessage.Read.Group) in a team it is installed in.
    m = /^\/graph\/v1\.0\/teams\/([^/]+)\/channels\/([^/]+)\/messages$/.exec(path);
    if (method === 'GET' && m) return { body: this.graphMessages(req.headers.authorization, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), url) };
    // …and a root message's replies (same consent).
    m = /^\/graph\/v1\.0\/teams\/([^/]+)\/channels\/([^/]+)\/messages\/([^/]+)\/replies$/.exec(path);
    if (method === 'GET' && m) return { body: this.graphMessages(req.headers.authorization, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), url, decodeURIComponent(m[3]!)) };

    // The Bot Connector v3 API, under the serviceUrl's path.
    m = /^\/amer\/v3\/(.*)$/.exec(path);
    if (!m) throw new ConnectorError(404, 'NotFound', `no route ${method} ${path}`);
    this.checkBearer(req.headers.authorization);
    const rest = m[1]!;
    const parts = rest.split('/').map(decodeURIComponent);
    if (method === 'GET' && parts[0] === 'teams' && parts.length === 3 && parts[2] === 'conversations') return { body: this.teamChannels(parts[1]!) };
    if (method === 'GET' && parts[0] === 'teams' && parts.length === 2) return { body: this.teamDetails(parts[1]!) };
    if (parts[0] !== 'conversations') throw new ConnectorError(404, 'NotFound', `no route ${method} /v3/${rest}`);
    if (method === 'POST' && parts.length === 1) return this.write(body, call, (a) => this.createConversation(a, call));
    const conversationId = parts[1] ?? '';
    if (method === 'GET' && (parts[2] === 'members' || parts[2] === 'pagedmembers') && parts.length === 3) return { body: this.members(conversationId, parts[2] === 'pagedmembers') };
    if (method === 'GET' && parts[2] === 'members' && parts.length === 4) return { body: this.member(conversationId, parts[3]!) };
    if (parts[2] !== 'activities') throw new ConnectorError(404, 'NotFound', `no route ${method} /v3/${rest}`);
    const activityId = parts[3];
    if (method === 'POST' && parts.length === 3) return this.write(body, call, (a) => this.send(conversationId, undefined, a, call));
    if (method === 'POST' && parts.length === 4) return this.write(body, call, (a) => this.send(conversationId, activityId, a, call));
    if (method === 'PUT' && parts.length === 4) return this.write(body, call, (a) => this.update(conversationId, activityId!, a, call));
    if (method === 'DELETE' && parts.length === 4) return this.write(body, call, () => this.remove(conversationId, activityId!, call));
    throw new ConnectorError(405, 'MethodNotAllowed', `${method} /v3/${rest}`);
  }

  private issueToken(tenant: string, form: URLSearchParams): Record<string, unknown> {
    if (form.get('grant_type') !== 'client_credentials') throw new ConnectorError(400, 'unsupported_grant_type', 'AADSTS70003: only client_credentials');
    if (form.get('client_id') !== this.opts.appId) throw new ConnectorError(400, 'unauthorized_client', `AADSTS700016: application ${form.get('client_id')} was not found in the directory`);
    // A single-tenant app exists only in its tenant; the multi-tenant botframework.com authority serves old bots.
    if (this.opts.tenantId && tenant !== this.opts.tenantId) throw new ConnectorError(400, 'unauthorized_client', `AADSTS700016: application not found in tenant ${tenant}`);
    const assertion = form.get('client_assertion');
    if (assertion) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || assertion.split('.').length !== 3) throw new ConnectorError(401, 'invalid_client', 'AADSTS700027: client assertion is not a JWT');
      // The certificate itself is not registered here; the assertion must at least be the app's own, for this endpoint.
      const claims = JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString('utf8')) as { iss?: string; sub?: string; aud?: string; exp?: number };
      const head = JSON.parse(Buffer.from(assertion.split('.')[0]!, 'base64url').toString('utf8')) as { alg?: string; x5t?: string; 'x5t#S256'?: string };
      if (claims.iss !== this.opts.appId || claims.sub !== this.opts.appId || !String(claims.aud).endsWith(`/${tenant}/oauth2/v2.0/token`) || (!head.alg?.startsWith('PS') && head.alg !== 'RS256') || !(head.x5t || head['x5t#S256'])) {
        throw new ConnectorError(401, 'invalid_client', 'AADSTS700027: client assertion is not for this app, endpoint or a certificate');
      }
    } else if (form.get('client_secret') !== this.opts.appPassword) {
      throw new ConnectorError(401, 'invalid_client', 'AADSTS7000215: invalid client secret provided');
    }
    const scope = form.get('scope') ?? '';
    if (scope !== 'https://api.botframework.com/.default' && scope !== 'https://graph.microsoft.com/.default') throw new ConnectorError(400, 'invalid_scope', `AADSTS70011: scope ${scope} is not valid`);
    const now = Math.floor(this.opts.now() / 1000);
    this.tokensIssued++;
    const token = signJwt({ aud: scope.replace('/.default', ''), iss: `https://sts.windows.net/${tenant}/`, appid: this.opts.appId, tid: tenant, iat: now, nbf: now, exp: now + 3600 }, this.tokenKey);
    return { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token };
  }

  /**
   * Graph's chatMessage list (newest first, `$top` per page, `@odata.nextLink`): a channel's root posts, or one
   * root's replies; bot posts with their cards as JSON strings, text as Teams stores it (HTML: escaped, line breaks as <br>).
   */
  private graphMessages(authorization: string | undefined, teamId: string, channelId: string, url: URL, repliesOf?: string): unknown {
    this.checkBearer(authorization, 'https://graph.microsoft.com');
    const team = this.teams.get(teamId);
    if (!team || !team.channels.some((c) => c.id === channelId)) throw new ConnectorError(404, 'NotFound', `no channel ${channelId} in team ${teamId}`);
    if (!team.botInstalled) throw new ConnectorError(403, 'Forbidden', 'the app has no resource-specific consent in this team');
    const top = Math.min(50, Number(url.searchParams.get('$top') ?? 20) || 20);
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0) || 0;
    if (repliesOf && !this.roots(channelId).some((a) => a.id === repliesOf)) throw new ConnectorError(404, 'NotFound', `no message ${repliesOf} in channel ${channelId}`);
    const roots = (repliesOf ? this.thread(channelId, repliesOf).filter((a) => a.id !== repliesOf) : this.roots(channelId)).slice().reverse();
    const page = roots.slice(skip, skip + top).map((a) => ({
      id: a.id, replyToId: repliesOf ?? null, messageType: 'message',
      // Teams message ids are creation times in ms (here with a counter in the last three digits).
      createdDateTime: new Date(Math.floor(Number(a.id) / 1000)).toISOString(),
      from: a.fromBot ? { user: null, application: { id: a.appId, displayName: 'HummDesk', applicationIdentityType: 'bot' } } : { application: null, user: { id: (a.raw.from as { aadObjectId?: string } | undefined)?.aadObjectId ?? null } },
      body: { contentType: 'html', content: a.text !== undefined ? htmlOf(a.text) : (a.attachments ?? []).map((_, i) => `<attachment id="${a.id}-${i}"></attachment>`).join('') },
      attachments: (a.attachments ?? []).map((att, i) => ({ id: `${a.id}-${i}`, contentType: att.contentType, content: att.content === undefined ? null : JSON.stringify(att.content) })),
    }));
    const next = skip + top < roots.length ? `${url.origin}${url.pathname}?$top=${top}&$skiptoken=${skip + top}` : undefined;
    return { value: page, ...(next ? { '@odata.nextLink': next } : {}) };
  }

  private checkBearer(authorization: string | undefined, audience = 'https://api.botframework.com'): void {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) throw new ConnectorError(401, 'Unauthorized', 'Authorization has been denied for this request (no bearer token)');
    const [h, p, s] = token.split('.');
    let claims: Record<string, unknown>;
    try {
      if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), this.tokenKey.publicKey, Buffer.from(s ?? '', 'base64url'))) throw new Error('signature');
      claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new ConnectorError(401, 'Unauthorized', 'Authorization has been denied for this request (token not issued here)');
    }
    if (claims.aud !== audience || claims.appid !== this.opts.appId) throw new ConnectorError(401, 'Unauthorized', 'token for another audience or app');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < this.opts.now()) throw new ConnectorError(401, 'Unauthorized', 'token expired');
  }

  /** Size, scripted failures and per-thread limits, then the write itself. */
  private write(body: Buffer, call: RecordedCall, fn: (activity: Record<string, unknown>) => { status?: number; body?: unknown }): { status?: number; body?: unknown; headers?: Record<string, string> } {
    if (body.length > this.opts.maxBodyBytes) throw new ConnectorError(413, 'MessageSizeTooBig', `the activity is ${body.length} bytes; the limit is ${this.opts.maxBodyBytes}`);
    let activity: Record<string, unknown> = {};
    if (body.length) {
      try {
        activity = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        throw new ConnectorError(400, 'BadArgument', 'the body is not JSON');
      }
    }
    const scripted = this.scripted.shift();
    const fail = (s: NonNullable<typeof scripted>) => new ConnectorError(s.status, s.code, `scripted ${s.status}`, s.retryAfter !== undefined ? { 'retry-after': String(s.retryAfter) } : {});
    if (scripted && !scripted.afterWrite) throw fail(scripted);
    const out = fn(activity);
    if (scripted) throw fail(scripted);
    return out;
  }

  /** Counts one write on a thread; throws 429 with Retry-After when a window is full. */
  private pace(thread: string, call: RecordedCall): void {
    call.thread = thread;
    if (!this.opts.limits) return;
    const now = this.opts.now();
    const times = (this.sends.get(thread) ?? []).filter((t) => t > now - 3600_000);
    for (const { windowMs, max } of THREAD_LIMITS) {
      const inWindow = times.filter((t) => t > now - windowMs);
      if (inWindow.length >= max) {
        const waitMs = inWindow[0]! + windowMs - now;
        this.sends.set(thread, times);
        throw new ConnectorError(429, 'TooManyRequests', `more than ${max} messages in ${windowMs / 1000} s on this thread`, { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) });
      }
    }
    times.push(now);
    this.sends.set(thread, times);
  }

  private conversation(id: string): EmulatedConversation {
    const c = this.conversations.get(id);
    if (!c) throw new ConnectorError(404, 'ConversationNotFound', `conversation ${id} does not exist`);
    if (c.teamId && !this.team(c.teamId).botInstalled) throw new ConnectorError(403, 'BotNotInConversationRoster', 'the bot is not part of the conversation roster');
    return c;
  }

  /** A conversation id as a bot may write to: a channel (optionally `;messageid=<root>`) or a personal chat. */
  private resolve(fullId: string): { conversation: EmulatedConversation; rootId?: string } {
    const { base, rootId } = splitConversationId(fullId);
    const conversation = this.conversation(base);
    if (fullId.includes(';messageid=')) {
      if (conversation.type !== 'channel') throw new ConnectorError(400, 'BadArgument', ';messageid= is only valid on channel conversations');
      if (!rootId || !this.activities.some((a) => a.conversationId === base && a.id === rootId && a.rootId === rootId && !a.deleted)) {
        throw new ConnectorError(404, 'MessageNotFound', `no thread root ${rootId ?? ''} in ${base}`);
      }
    }
    return { conversation, rootId };
  }

  private checkChannelPostable(conversation: EmulatedConversation): void {
    if (conversation.type !== 'channel') return;
    const ch = this.team(conversation.teamId!).channels.find((c) => c.id === conversation.id);
    if (ch && ch.membershipType && ch.membershipType !== 'standard') throw new ConnectorError(403, 'BotNotInConversationRoster', `bots cannot post in ${ch.membershipType} channels`);
  }

  /** Adaptive Cards must say what they are; Teams refuses a card it cannot parse. */
  private checkActivity(a: Record<string, unknown>): void {
    if (a.type !== undefined && a.type !== 'message') throw new ConnectorError(400, 'BadArgument', `activity type ${String(a.type)} cannot be sent`);
    const attachments = a.attachments;
    const hasText = typeof a.text === 'string' && a.text.length > 0;
    if (attachments !== undefined && !Array.isArray(attachments)) throw new ConnectorError(400, 'BadArgument', 'attachments must be an array');
    for (const att of (attachments ?? []) as Record<string, unknown>[]) {
      if (typeof att.contentType !== 'string') throw new ConnectorError(400, 'BadArgument', 'an attachment has no contentType');
      if (att.contentType === ADAPTIVE) {
        const card = att.content as Record<string, unknown> | undefined;
        if (!card || card.type !== 'AdaptiveCard') throw new ConnectorError(400, 'BadArgument', 'adaptive card content must have type AdaptiveCard');
        if (typeof card.version !== 'string' || !/^1\.\d$/.test(card.version)) throw new ConnectorError(400, 'BadArgument', 'adaptive card needs a version such as "1.5"');
        if (card.body !== undefined && !Array.isArray(card.body)) throw new ConnectorError(400, 'BadArgument', 'adaptive card body must be an array');
        if (card.actions !== undefined && !Array.isArray(card.actions)) throw new ConnectorError(400, 'BadArgument', 'adaptive card actions must be an array');
      }
    }
    if (!hasText && !(attachments as unknown[] | undefined)?.length) throw new ConnectorError(400, 'BadArgument', 'the activity has neither text nor attachments');
  }

  private record(conversationId: string, rootId: string | undefined, a: Record<string, unknown>, replyToId?: string): EmulatedActivity {
    const id = this.nextId();
    const rec: EmulatedActivity = {
      conversationId, rootId: rootId ?? id, id, type: 'message',
      text: typeof a.text === 'string' ? a.text : undefined,
      textFormat: typeof a.textFormat === 'string' ? a.textFormat : undefined,
      attachments: a.attachments as EmulatedActivity['attachments'],
      fromBot: true, appId: this.opts.appId, edits: 0, deleted: false, replyToId, raw: a,
    };
    this.activities.push(rec);
    return rec;
  }

  private createConversation(body: Record<string, unknown>, call: RecordedCall): { status: number; body: unknown } {
    const channelData = (body.channelData ?? {}) as { channel?: { id?: string }; tenant?: { id?: string } };
    const channelId = channelData.channel?.id;
    if (channelId) {
      if (!body.activity) throw new ConnectorError(400, 'BadArgument', 'a channel conversation starts with an activity');
      const { conversation } = this.resolve(channelId);
      this.checkChannelPostable(conversation);
      this.checkActivity(body.activity as Record<string, unknown>);
      this.pace(channelId, call);
      const root = this.record(channelId, undefined, body.activity as Record<string, unknown>);
      return { status: 201, body: { id: `${channelId};messageid=${root.id}`, activityId: root.id } };
    }
    // A personal chat with one member of a team the bot is in.
    const members = (body.members ?? []) as { id?: string }[];
    const tenant = channelData.tenant?.id ?? (body.tenantId as string | undefined);
    const team = [...this.teams.values()].find((t) => t.botInstalled && t.members.some((m) => m.id === members[0]?.id));
    if (members.length !== 1 || !team) throw new ConnectorError(400, 'BadArgument', 'a personal conversation needs exactly one member the bot can reach');
    if (tenant && tenant !== team.tenantId) throw new ConnectorError(400, 'BadArgument', 'tenant does not match the member');
    const id = `a:${randomBytes(24).toString('base64url')}`;
    this.conversations.set(id, { id, type: 'personal', tenantId: team.tenantId, members: team.members.filter((m) => m.id === members[0]!.id) });
    let activityId: string | undefined;
    if (body.activity) {
      this.checkActivity(body.activity as Record<string, unknown>);
      this.pace(id, call);
      activityId = this.record(id, undefined, body.activity as Record<string, unknown>).id;
    }
    return { status: 201, body: { id, ...(activityId ? { activityId } : {}) } };
  }

  private send(fullId: string, replyToId: string | undefined, a: Record<string, unknown>, call: RecordedCall): { status: number; body: unknown } {
    const { conversation, rootId } = this.resolve(fullId);
    this.checkChannelPostable(conversation);
    this.checkActivity(a);
    let root = rootId;
    if (conversation.type === 'channel' && !root && replyToId) {
      // Replying to an activity of a channel answers in that activity's thread.
      const target = this.activities.find((x) => x.conversationId === conversation.id && x.id === replyToId && !x.deleted);
      if (!target) throw new ConnectorError(404, 'MessageNotFound', `no activity ${replyToId} in ${conversation.id}`);
      root = target.rootId;
    }
    const thread = root ? `${conversation.id};messageid=${root}` : conversation.id;
    this.pace(thread, call);
    const rec = this.record(conversation.id, conversation.type === 'channel' ? root : conversation.id, a, replyToId);
    return { status: 201, body: { id: rec.id } };
  }

  private ownActivity(fullId: string, activityId: string): { conversation: EmulatedConversation; activity: EmulatedActivity; rootId?: string } {
    const { conversation, rootId } = this.resolve(fullId);
    const activity = this.activities.find((x) => x.conversationId === conversation.id && x.id === activityId && !x.deleted);
    if (!activity) throw new ConnectorError(404, 'MessageNotFound', `no activity ${activityId} in ${conversation.id}`);
    if (!activity.fromBot || activity.appId !== this.opts.appId) throw new ConnectorError(403, 'Forbidden', 'a bot may only change its own activities');
    return { conversation, activity, rootId };
  }

  private update(fullId: string, activityId: string, a: Record<string, unknown>, call: RecordedCall): { status: number; body: unknown } {
    const { conversation, activity } = this.ownActivity(fullId, activityId);
    this.checkActivity(a);
    this.pace(conversation.type === 'channel' ? `${conversation.id};messageid=${activity.rootId}` : conversation.id, call);
    activity.text = typeof a.text === 'string' ? a.text : undefined;
    activity.attachments = a.attachments as EmulatedActivity['attachments'];
    activity.raw = a;
    activity.edits++;
    return { status: 200, body: { id: activityId } };
  }

  private remove(fullId: string, activityId: string, call: RecordedCall): { status: number } {
    const { conversation, activity } = this.ownActivity(fullId, activityId);
    this.pace(conversation.type === 'channel' ? `${conversation.id};messageid=${activity.rootId}` : conversation.id, call);
    activity.deleted = true;
    return { status: 200 };
  }

  private memberJson(m: EmulatedMember, tenantId: string): Record<string, unknown> {
    return { id: m.id, name: m.name, aadObjectId: m.aadObjectId, email: m.email, userPrincipalName: m.userPrincipalName ?? m.email, tenantId, userRole: 'user' };
  }

  private members(fullId: string, paged: boolean): unknown {
    const { conversation } = this.resolve(fullId);
    const list = conversation.members.map((m) => this.memberJson(m, conversation.tenantId));
    return paged ? { members: list } : list;
  }

  private member(fullId: string, memberId: string): unknown {
    const { conversation } = this.resolve(fullId);
    const m = conversation.members.find((x) => x.id === memberId || x.aadObjectId === memberId);
    if (!m) throw new ConnectorError(404, 'MemberNotFoundInConversation', `no member ${memberId}`);
    return this.memberJson(m, conversation.tenantId);
  }

  private teamOf(teamId: string): EmulatedTeam {
    const team = this.teams.get(teamId);
    if (!team) throw new ConnectorError(404, 'ConversationNotFound', `team ${teamId} does not exist`);
    if (!team.botInstalled) throw new ConnectorError(403, 'BotNotInConversationRoster', 'the bot is not part of the team roster');
    return team;
  }

  private teamChannels(teamId: string): unknown {
    // Teams lists private and shared channels too, with their type; the General channel comes without a name.
    return { conversations: this.teamOf(teamId).channels.map((c) => ({ id: c.id, ...(c.id === teamId ? {} : { name: c.name }), type: c.membershipType ?? 'standard' })) };
  }

  private teamDetails(teamId: string): unknown {
    const t = this.teamOf(teamId);
    return { id: t.id, name: t.name, aadGroupId: t.aadGroupId, tenantId: t.tenantId, channelCount: t.channels.length, memberCount: t.members.length };
  }
}

/** Plain text as Teams stores it for Graph: HTML-escaped, line breaks as <br>. */
function htmlOf(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\n/g, '<br>');
}
