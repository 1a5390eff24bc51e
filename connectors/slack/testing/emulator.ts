import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { blockKitProblems, viewProblems } from './block-kit.js';
import { SlackLimits, type SlackLimitOptions } from './limits.js';

/**
 * Test support, not product code: a local stand-in for the Slack Web API methods HummDesk calls.
 * It checks tokens, scopes and argument shapes the way Slack documents them (Block Kit limits
 * included) and enforces rate limits with HTTP 429 + Retry-After, so the real WebClient can be
 * pointed at it through `slackApiUrl`.
 */

export interface EmulatedUser {
  id: string;
  name: string;
  realName?: string;
  email?: string;
  isBot?: boolean;
  emailConfirmed?: boolean;
  /** Defaults to the workspace; a Slack Connect guest has another team. */
  teamId?: string;
  deleted?: boolean;
}

export interface EmulatedChannel {
  id: string;
  name: string;
  /** Whether our bot is in the channel (posting needs it; conversations.join sets it). */
  isMember?: boolean;
  isExtShared?: boolean;
  isPrivate?: boolean;
  /** People in the channel (chat.postEphemeral needs the recipient in it); unset: every user of the workspace. */
  members?: string[];
}

/** Open Socket Mode connections Slack allows one app at once. */
export const SOCKET_MODE_MAX_CONNECTIONS = 10;

export interface EmulatedWorkspace {
  teamId: string;
  teamName: string;
  botToken: string;
  /** App-level token (xapp-…, connections:write) for Socket Mode. */
  appToken: string;
  botUserId: string;
  botId: string;
  appId: string;
  scopes: string[];
  users: EmulatedUser[];
  channels: EmulatedChannel[];
  /** Token rotation on in the app: OAuth answers an expiring bot token (xoxe.xoxb-…) and a single-use refresh token. */
  tokenRotation?: boolean;
  /** Enterprise Grid: the organisation the workspace belongs to (an org-wide install is keyed by it). */
  enterpriseId?: string;
}

export interface EmulatedMessage {
  team: string;
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks?: Block[];
  username?: string;
  user: string;
  botId: string;
  edits: number;
  files?: { id: string; name: string; size: number }[];
  /** Message metadata (`event_type`, `event_payload`) as posted. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Further fields Slack shows on this message in history (`user_team`, `files`, `subtype`…), as a driver built them. */
  fields?: Record<string, unknown>;
}

type Block = Record<string, unknown>;
type Args = Record<string, unknown>;

export interface RecordedCall {
  method: string;
  team?: string;
  args: Args;
  status: number;
  error?: string;
}

class SlackApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(error);
  }
}

const DEFAULT_SCOPES = ['chat:write', 'chat:write.customize', 'channels:history', 'groups:history', 'channels:read', 'groups:read', 'channels:join',
  'users:read', 'users:read.email', 'files:read', 'files:write', 'commands'];

export class SlackEmulator {
  readonly calls: RecordedCall[] = [];
  /** Every message in every channel, in post order; chat.update edits them in place. */
  readonly messages: EmulatedMessage[] = [];
  readonly ephemerals: { team: string; channel: string; user: string; text: string; threadTs?: string; blocks?: Block[] }[] = [];
  readonly views = new Map<string, { team: string; user?: string; view: Block; externalId?: string }>();
  readonly homeTabs = new Map<string, Block>();
  readonly responses: { id: string; body: Record<string, unknown> }[] = [];
  readonly uploads = new Map<string, { team: string; filename: string; length: number; bytes?: Buffer }>();
  /** Files people shared in Slack, served at their url_private to a bot token of the same workspace. */
  readonly files = new Map<string, { team: string; name: string; mimetype: string; bytes: Buffer; downloads: number; sharedWith?: Set<string> }>();
  private readonly workspaces = new Map<string, EmulatedWorkspace>();
  private readonly tokens = new Map<string, string>();
  private readonly revoked = new Set<string>();
  private readonly triggers = new Map<string, { team: string; user: string; issuedAt: number }>();
  private readonly oauthCodes = new Map<string, { team: string; redirectUri?: string; orgWide?: boolean }>();
  private readonly scripted: { method: string; retryAfter: number }[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly listeners: ((m: EmulatedMessage, change: 'posted' | 'updated') => void)[] = [];
  private readonly appTokens = new Map<string, string>();
  /** Token rotation: when each rotating bot token expires (emulator clock), and the unspent refresh tokens. */
  private readonly tokenExpiry = new Map<string, number>();
  private readonly refreshTokens = new Map<string, string>();
  /** Socket Mode: one-use tickets of apps.connections.open, open connections per app-level token (the app's, shared by its workspaces), envelopes awaiting their ack. */
  private readonly socketTickets = new Map<string, string>();
  private readonly socketConnections = new Map<string, Set<WebSocket>>();
  private readonly awaitingAck = new Map<string, (ack: { envelope_id: string; payload?: Record<string, unknown> }) => void>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private seq = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly opts: {
      now: () => number;
      /** Slack's rate limits and latency (limits.ts): on by default, as real Slack. */
      limits: SlackLimits;
      oauth: { clientId: string; clientSecret: string };
      /** Most messages conversations.history/replies return per call (distributed non-Marketplace apps: 15). */
      historyPageLimit?: number;
    },
  ) {}

  static async start(opts: { now?: () => number; limits?: SlackLimitOptions; /** Shorthand for limits.postsPerSecondPerChannel. */ messagesPerSecondPerChannel?: number; oauth?: { clientId: string; clientSecret: string }; /** Most messages conversations.history/replies return per call. */ historyPageLimit?: number } = {}): Promise<SlackEmulator> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const emulator = new SlackEmulator(server, `http://127.0.0.1:${port}`, {
      now: opts.now ?? Date.now,
      limits: new SlackLimits({ ...(opts.messagesPerSecondPerChannel ? { postsPerSecondPerChannel: opts.messagesPerSecondPerChannel } : {}), ...opts.limits }, opts.now ?? Date.now),
      oauth: opts.oauth ?? { clientId: '1111.2222', clientSecret: 'emulated-client-secret' },
      historyPageLimit: opts.historyPageLimit,
    });
    server.on('connection', (s) => {
      emulator.sockets.add(s);
      s.on('close', () => emulator.sockets.delete(s));
    });
    server.on('request', (req, res) => void emulator.handle(req, res));
    server.on('upgrade', (req, socket, head) => emulator.upgrade(req, socket as Socket, head));
    return emulator;
  }

  /** What WebClient's `slackApiUrl` must be. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  addWorkspace(w: Partial<EmulatedWorkspace> & { teamId: string }): EmulatedWorkspace {
    const ws: EmulatedWorkspace = {
      teamName: `Team ${w.teamId}`,
      botToken: `xoxb-${w.teamId}-${randomBytes(6).toString('hex')}`,
      botUserId: `UBOT${w.teamId.slice(1)}`,
      botId: `BBOT${w.teamId.slice(1)}`,
      appId: 'AHUMMDESK1',
      appToken: `xapp-1-${w.teamId}-${randomBytes(6).toString('hex')}`,
      scopes: DEFAULT_SCOPES,
      users: [],
      channels: [],
      ...w,
    };
    this.workspaces.set(ws.teamId, ws);
    this.tokens.set(ws.botToken, ws.teamId);
    // An app-level token is the app's: workspaces of one app share it (pass the same appToken).
    if (!this.appTokens.has(ws.appToken)) this.appTokens.set(ws.appToken, ws.teamId);
    return ws;
  }

  revokeToken(token: string): void {
    this.revoked.add(token);
  }

  /** Undoes revokeToken (an admin fixed the installation). */
  restoreToken(token: string): void {
    this.revoked.delete(token);
  }

  /** The next `times` calls of `method` answer 429 with Retry-After. */
  rateLimitNext(method: string, retryAfterSeconds = 1, times = 1): void {
    for (let i = 0; i < times; i++) this.scripted.push({ method, retryAfter: retryAfterSeconds });
  }

  /** A trigger_id as Slack puts in an interaction; views.open accepts it for 3 s of the emulator's clock. */
  issueTrigger(team: string, user: string): string {
    const id = `${Math.floor(this.opts.now() / 1000)}.${++this.seq}.${randomBytes(8).toString('hex')}`;
    this.triggers.set(id, { team, user, issuedAt: this.opts.now() });
    return id;
  }

  /** A response_url as Slack puts in commands and interactions; posts to it are recorded in `responses`. */
  issueResponseUrl(): string {
    return `${this.url}/response/${randomBytes(8).toString('hex')}`;
  }

  /** A code as Slack hands to the OAuth redirect after an admin approves the install. */
  issueOAuthCode(team: string, redirectUri?: string, opts: { /** An org admin installed the app org-wide (Enterprise Grid): the answer names the enterprise, `team` is null. */ orgWide?: boolean } = {}): string {
    const code = `${randomBytes(6).toString('hex')}.${randomBytes(6).toString('hex')}`;
    this.oauthCodes.set(code, { team, redirectUri, ...(opts.orgWide ? { orgWide: true } : {}) });
    return code;
  }

  /** A message a person posts in Slack (not through the API), so threads have real roots to hang on. */
  postAsUser(team: string, channel: string, user: string, text: string, threadTs?: string, fields?: Record<string, unknown>): EmulatedMessage {
    const m: EmulatedMessage = { team, channel, ts: this.nextTs(), threadTs, text, user, botId: '', edits: 0, ...(fields ? { fields } : {}) };
    this.messages.push(m);
    return m;
  }

  /** Called for every message the API posts (chat.postMessage, files shared into a channel) and every chat.update of one: benchmarks time posts with it. */
  onMessage(listener: (m: EmulatedMessage, change: 'posted' | 'updated') => void): void {
    this.listeners.push(listener);
  }

  private record(m: EmulatedMessage): void {
    this.messages.push(m);
    for (const l of this.listeners) l(m, 'posted');
  }

  /** A file a person shares in Slack; the result is the `files[]` entry of the message event. */
  addFile(team: string, f: { name: string; mimetype: string; content: Buffer }): { id: string; name: string; title: string; mimetype: string; size: number; url_private: string; url_private_download: string } {
    const id = `F${randomBytes(5).toString('hex').toUpperCase()}`;
    this.files.set(id, { team, name: f.name, mimetype: f.mimetype, bytes: f.content, downloads: 0 });
    const base = `${this.url}/files-pri/${team}-${id}`;
    return { id, name: f.name, title: f.name, mimetype: f.mimetype, size: f.content.length, url_private: `${base}/${encodeURIComponent(f.name)}`, url_private_download: `${base}/download/${encodeURIComponent(f.name)}` };
  }

  /**
   * A file of another organisation shared into a Slack Connect channel: events carry only a stub
   * (`file_access: "check_file_info"`); files.info with a token of a workspace it is shared with gives its URLs.
   */
  addConnectFile(ownerTeam: string, sharedWith: string[], f: { name: string; mimetype: string; content: Buffer }): { id: string; mode: string; file_access: string; created: number; timestamp: number; user: string } {
    const { id } = this.addFile(ownerTeam, f);
    this.files.get(id)!.sharedWith = new Set(sharedWith);
    return { id, mode: 'file_access', file_access: 'check_file_info', created: 0, timestamp: 0, user: '' };
  }

  inChannel(channel: string): EmulatedMessage[] {
    return this.messages.filter((m) => m.channel === channel);
  }

  /** Top-level messages of a channel. */
  roots(channel: string): EmulatedMessage[] {
    return this.messages.filter((m) => m.channel === channel && (!m.threadTs || m.threadTs === m.ts));
  }

  replies(channel: string, threadTs: string): EmulatedMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.threadTs === threadTs && m.ts !== threadTs);
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Open Socket Mode connections of a workspace's app (its app-level token). */
  socketCount(team: string): number {
    return this.socketsOf(team).length;
  }

  private socketsOf(team: string): WebSocket[] {
    const token = this.workspaces.get(team)?.appToken;
    return [...((token && this.socketConnections.get(token)) || [])];
  }

  /** Whether a refresh token was issued and not spent yet. */
  refreshTokenLive(token: string): boolean {
    return this.refreshTokens.has(token);
  }

  /**
   * Delivers one Socket Mode envelope (`events_api`, `interactive`, `slash_commands`) over an open
   * connection, as Slack does, and resolves with the app's acknowledgement.
   */
  socketDeliver(team: string, type: 'events_api' | 'interactive' | 'slash_commands', payload: Record<string, unknown>, opts: { retryAttempt?: number } = {}): Promise<{ envelope_id: string; payload?: Record<string, unknown> }> {
    // Like Slack: any one open connection of the app, at random, whichever workspace the envelope is of.
    const open = this.socketsOf(team);
    const ws = open[Math.floor(Math.random() * open.length)];
    if (!ws) return Promise.reject(new Error(`no Socket Mode connection for ${team}`));
    const envelope_id = randomBytes(8).toString('hex');
    return new Promise((resolve) => {
      this.awaitingAck.set(envelope_id, resolve);
      ws.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryAttempt ? 'timeout' : '' }));
    });
  }

  /** Asks every connection of a workspace to reconnect, as Slack does before it rotates a connection. */
  socketDisconnect(team: string, reason = 'refresh_requested'): void {
    for (const ws of this.socketsOf(team)) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'emulator' } }));
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const ticket = /^\/socket\/([a-f0-9]+)$/.exec((req.url ?? '').split('?')[0]!)?.[1];
    const appToken = ticket ? this.socketTickets.get(ticket) : undefined;
    const team = appToken ? this.appTokens.get(appToken) : undefined;
    if (!ticket || !appToken || !team) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    this.socketTickets.delete(ticket);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const set = this.socketConnections.get(appToken) ?? new Set<WebSocket>();
      this.socketConnections.set(appToken, set);
      if (set.size >= SOCKET_MODE_MAX_CONNECTIONS) {
        // Slack allows 10 connections per app: the next is told why and closed, the others stay.
        ws.send(JSON.stringify({ type: 'disconnect', reason: 'too_many_websockets', debug_info: { host: 'emulator' } }));
        ws.close();
        return;
      }
      set.add(ws);
      ws.on('close', () => set.delete(ws));
      ws.on('message', (data) => {
        const ack = safeJson(String(data)) as { envelope_id?: string; payload?: Record<string, unknown> } | undefined;
        const waiting = ack?.envelope_id ? this.awaitingAck.get(ack.envelope_id) : undefined;
        if (!waiting) return;
        this.awaitingAck.delete(ack!.envelope_id!);
        // SocketModeClient always acknowledges with a `payload`; an empty one is no response payload.
        waiting({ envelope_id: ack!.envelope_id!, ...(ack!.payload && Object.keys(ack!.payload).length ? { payload: ack!.payload } : {}) });
      });
      ws.send(JSON.stringify({ type: 'hello', num_connections: set.size, connection_info: { app_id: this.workspaces.get(team)!.appId }, debug_info: { host: 'emulator' } }));
    });
  }

  async close(): Promise<void> {
    for (const set of this.socketConnections.values()) for (const ws of set) ws.terminate();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** An oauth.v2.access answer; with token rotation a fresh 12-hour bot token (it becomes ws.botToken) and refresh token. */
  private grant(ws: EmulatedWorkspace): Record<string, unknown> {
    const base = { app_id: ws.appId, scope: ws.scopes.join(','), token_type: 'bot', bot_user_id: ws.botUserId, team: { id: ws.teamId, name: ws.teamName }, enterprise: null, is_enterprise_install: false };
    if (!ws.tokenRotation) return { ...base, access_token: ws.botToken };
    const expiresIn = 12 * 60 * 60;
    ws.botToken = `xoxe.xoxb-1-${randomBytes(9).toString('hex')}`;
    this.tokens.set(ws.botToken, ws.teamId);
    this.tokenExpiry.set(ws.botToken, this.opts.now() + expiresIn * 1000);
    const refresh = `xoxe-1-${randomBytes(12).toString('hex')}`;
    this.refreshTokens.set(refresh, ws.teamId);
    return { ...base, access_token: ws.botToken, refresh_token: refresh, expires_in: expiresIn };
  }

  private nextTs(): string {
    return `${Math.floor(this.opts.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    // Every call takes a real network's time, so no test passes only because Slack answered in 1 ms.
    await new Promise((r) => setTimeout(r, this.opts.limits.latency()));
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(payload));
    };
    if (path.startsWith('/response/')) {
      const parsed = safeJson(body.toString('utf8'));
      if (!parsed || typeof parsed !== 'object') return send(400, { ok: false, error: 'invalid_payload' });
      this.responses.push({ id: path.slice('/response/'.length), body: parsed as Record<string, unknown> });
      return send(200, { ok: true });
    }
    if (path.startsWith('/files-pri/')) {
      // Like Slack: without a bot token of the file's workspace (and files:read) the answer is a redirect to the sign-in page, not the bytes.
      const m = /^\/files-pri\/([A-Z0-9]+)-([A-Z0-9]+)\//.exec(path);
      const file = m ? this.files.get(m[2]!) : undefined;
      const header = req.headers.authorization;
      const team = header?.startsWith('Bearer ') && !this.revoked.has(header.slice(7)) ? this.tokens.get(header.slice(7)) : undefined;
      const allowed = !!file && (team === file.team || !!file.sharedWith?.has(team ?? '')) && team === m![1] && this.workspaces.get(team!)!.scopes.includes('files:read');
      this.calls.push({ method: 'files-pri', team, args: { path }, status: allowed ? 200 : 302 });
      if (!allowed) {
        res.writeHead(302, { location: `${this.url}/signin` });
        return void res.end();
      }
      file.downloads++;
      res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.bytes.length) });
      return void res.end(file.bytes);
    }
    if (path.startsWith('/upload/')) {
      const upload = this.uploads.get(path.slice('/upload/'.length));
      if (!upload) return send(404, { ok: false, error: 'file_not_found' });
      // Slack takes the file raw or as multipart form data (WebClient sends the latter).
      const type = req.headers['content-type'] ?? '';
      if (type.startsWith('multipart/form-data')) {
        const form = await new Response(body, { headers: { 'content-type': type } }).formData();
        let file: Blob | undefined;
        form.forEach((v) => {
          if (!file && typeof v !== 'string') file = v;
        });
        upload.bytes = file ? Buffer.from(await (file as Blob).arrayBuffer()) : Buffer.alloc(0);
      } else upload.bytes = body;
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(`OK - ${body.length}`);
    }
    if (!path.startsWith('/api/')) return send(404, { ok: false, error: 'unknown_path' });
    const method = path.slice('/api/'.length);
    const args = readArgs(req.headers['content-type'] ?? '', body, new URL(req.url ?? '/', this.url).searchParams);
    const call: RecordedCall = { method, args, status: 200 };
    this.calls.push(call);
    const scripted = this.scripted.findIndex((s) => s.method === method);
    if (scripted >= 0) {
      const [s] = this.scripted.splice(scripted, 1);
      call.status = 429;
      return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(s!.retryAfter) });
    }
    const caller = this.teamOfCall(args, req.headers.authorization);
    call.team = caller;
    const retryAfter = caller ? this.opts.limits.admit(caller, method) : undefined;
    if (retryAfter) {
      call.status = 429;
      return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });
    }
    try {
      const { team, result } = this.dispatch(method, args, req.headers.authorization);
      call.team = team;
      return send(200, { ok: true, ...result });
    } catch (err) {
      if (err instanceof RateLimited) {
        call.status = 429;
        return send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(err.retryAfter) });
      }
      const e = err instanceof SlackApiError ? err : new SlackApiError('internal_error');
      call.error = e.error;
      return send(200, { ok: false, error: e.error, ...e.extra });
    }
  }

  private auth(args: Args, header: string | undefined, scope?: string): EmulatedWorkspace {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : typeof args.token === 'string' ? args.token : undefined;
    if (!token) throw new SlackApiError('not_authed');
    if (this.revoked.has(token)) throw new SlackApiError('token_revoked');
    const team = this.tokens.get(token);
    if (!team) throw new SlackApiError('invalid_auth');
    const expires = this.tokenExpiry.get(token);
    if (expires !== undefined && this.opts.now() >= expires) throw new SlackApiError('token_expired');
    const ws = this.workspaces.get(team)!;
    if (scope && !ws.scopes.includes(scope)) throw new SlackApiError('missing_scope', { needed: scope, provided: ws.scopes.join(',') });
    return ws;
  }

  private channelOf(ws: EmulatedWorkspace, id: unknown): EmulatedChannel {
    if (typeof id !== 'string' || !id) throw new SlackApiError('channel_not_found');
    const ch = ws.channels.find((c) => c.id === id);
    if (!ch) throw new SlackApiError('channel_not_found');
    return ch;
  }

  /** The workspace whose app makes a call (bot or app-level token), for its rate limits. */
  private teamOfCall(args: Args, header: string | undefined): string | undefined {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : typeof args.token === 'string' ? args.token : undefined;
    // A revoked or unknown token is nobody's call: Slack cannot count it against an app's budget.
    return token && !this.revoked.has(token) ? (this.tokens.get(token) ?? this.appTokens.get(token)) : undefined;
  }

  /** One page of a cursor-paginated list: `limit` capped as Slack caps it (15 for a distributed app), `cursor` from the last page. */
  private page<T>(method: 'conversations.history' | 'conversations.replies', a: Args, all: T[]): { page: T[]; more: Record<string, unknown> } {
    const limit = Math.min(Number(a.limit) || this.opts.limits.pageDefault(method), this.opts.limits.pageMax(method), this.opts.historyPageLimit ?? Infinity);
    const cursor = typeof a.cursor === 'string' && a.cursor ? /^offset:(\d+)$/.exec(Buffer.from(a.cursor, 'base64').toString('utf8'))?.[1] : '0';
    if (cursor === undefined) throw new SlackApiError('invalid_cursor');
    const from = Number(cursor);
    const page = all.slice(from, from + limit);
    const hasMore = from + limit < all.length;
    return { page, more: { has_more: hasMore, response_metadata: { next_cursor: hasMore ? Buffer.from(`offset:${from + limit}`).toString('base64') : '' } } };
  }

  /** chat.postMessage's own limit: about one message a second per channel, short bursts allowed. */
  private limitPost(team: string, channel: string): void {
    const retryAfter = this.opts.limits.admitPost(team, channel);
    if (retryAfter) throw new RateLimited(retryAfter);
  }

  private dispatch(method: string, a: Args, authorization: string | undefined): { team?: string; result: Record<string, unknown> } {
    switch (method) {
      case 'auth.test': {
        const ws = this.auth(a, authorization);
        return { team: ws.teamId, result: { url: `https://${ws.teamName.toLowerCase().replace(/\W+/g, '-')}.slack.com/`, team: ws.teamName, user: 'hummdesk', team_id: ws.teamId, user_id: ws.botUserId, bot_id: ws.botId, is_enterprise_install: false } };
      }
      case 'apps.connections.open': {
        // App-level tokens only: a bot token cannot open Socket Mode.
        const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : typeof a.token === 'string' ? a.token : undefined;
        if (!token) throw new SlackApiError('not_authed');
        // A revoked (regenerated) app-level token is one Slack no longer knows.
        const team = this.revoked.has(token) ? undefined : this.appTokens.get(token);
        if (!team) throw new SlackApiError(this.tokens.has(token) ? 'not_allowed_token_type' : 'invalid_auth');
        const ticket = randomBytes(12).toString('hex');
        this.socketTickets.set(ticket, token);
        return { team, result: { url: `${this.url.replace(/^http/, 'ws')}/socket/${ticket}` } };
      }
      case 'chat.postMessage': {
        const ws = this.auth(a, authorization, 'chat:write');
        const ch = this.channelOf(ws, a.channel);
        if (!ch.isMember) throw new SlackApiError('not_in_channel');
        if (a.username !== undefined && !ws.scopes.includes('chat:write.customize')) throw new SlackApiError('missing_scope', { needed: 'chat:write.customize' });
        const { text, blocks } = checkContent(a);
        const threadTs = optionalString(a.thread_ts, 'thread_ts');
        if (threadTs && !this.messages.some((m) => m.channel === ch.id && m.ts === threadTs)) throw new SlackApiError('thread_not_found');
        this.limitPost(ws.teamId, ch.id);
        const metadata = a.metadata === undefined ? undefined : (parseJsonArg(a.metadata, 'metadata') as EmulatedMessage['metadata']);
        if (metadata !== undefined && (typeof metadata?.event_type !== 'string' || typeof metadata.event_payload !== 'object')) throw new SlackApiError('invalid_metadata_format');
        const m: EmulatedMessage = { team: ws.teamId, channel: ch.id, ts: this.nextTs(), threadTs, text, blocks, username: a.username as string | undefined, user: ws.botUserId, botId: ws.botId, edits: 0, ...(metadata ? { metadata } : {}) };
        this.record(m);
        return { team: ws.teamId, result: { channel: ch.id, ts: m.ts, message: { type: 'message', text, user: ws.botUserId, bot_id: ws.botId, ts: m.ts, ...(threadTs ? { thread_ts: threadTs } : {}), ...(blocks ? { blocks } : {}) } } };
      }
      case 'chat.update': {
        const ws = this.auth(a, authorization, 'chat:write');
        const ch = this.channelOf(ws, a.channel);
        const m = this.messages.find((x) => x.channel === ch.id && x.ts === a.ts);
        if (!m) throw new SlackApiError('message_not_found');
        if (m.botId !== ws.botId) throw new SlackApiError('cant_update_message');
        const { text, blocks } = checkContent(a);
        m.text = text;
        m.blocks = blocks;
        m.edits++;
        for (const l of this.listeners) l(m, 'updated');
        return { team: ws.teamId, result: { channel: ch.id, ts: m.ts, text } };
      }
      case 'chat.postEphemeral': {
        const ws = this.auth(a, authorization, 'chat:write');
        const ch = this.channelOf(ws, a.channel);
        const user = requiredString(a.user, 'user');
        if (!ws.users.some((u) => u.id === user) || (ch.members && !ch.members.includes(user))) throw new SlackApiError('user_not_in_channel');
        const { text, blocks } = checkContent(a);
        this.ephemerals.push({ team: ws.teamId, channel: ch.id, user, text, threadTs: a.thread_ts as string | undefined, blocks });
        return { team: ws.teamId, result: { message_ts: this.nextTs() } };
      }
      case 'users.info': {
        const ws = this.auth(a, authorization, 'users:read');
        const id = requiredString(a.user, 'user');
        const u = ws.users.find((x) => x.id === id);
        if (!u) throw new SlackApiError('user_not_found');
        const profile: Record<string, unknown> = { real_name: u.realName ?? u.name, display_name: u.name, image_48: 'https://example.invalid/a.png' };
        if (u.email && ws.scopes.includes('users:read.email')) profile.email = u.email;
        return {
          team: ws.teamId,
          result: { user: { id: u.id, team_id: u.teamId ?? ws.teamId, name: u.name, real_name: u.realName ?? u.name, deleted: u.deleted ?? false, is_bot: u.isBot ?? false, is_email_confirmed: u.emailConfirmed ?? true, is_restricted: false, is_ultra_restricted: false, tz: 'Europe/Helsinki', profile } },
        };
      }
      case 'conversations.info': {
        const ws = this.auth(a, authorization, 'channels:read');
        const ch = this.channelOf(ws, a.channel);
        return { team: ws.teamId, result: { channel: { id: ch.id, name: ch.name, is_channel: !ch.isPrivate, is_private: ch.isPrivate ?? false, is_member: ch.isMember ?? false, is_ext_shared: ch.isExtShared ?? false, is_shared: ch.isExtShared ?? false } } };
      }
      case 'conversations.join': {
        const ws = this.auth(a, authorization, 'channels:join');
        const ch = this.channelOf(ws, a.channel);
        if (ch.isPrivate) throw new SlackApiError('method_not_supported_for_channel_type');
        ch.isMember = true;
        return { team: ws.teamId, result: { channel: { id: ch.id, name: ch.name, is_member: true } } };
      }
      case 'conversations.history': {
        const ws = this.auth(a, authorization, 'channels:history');
        const ch = this.channelOf(ws, a.channel);
        if (!ch.isMember) throw new SlackApiError('not_in_channel');
        const oldest = Number(a.oldest ?? 0);
        const withMetadata = a.include_all_metadata === true || a.include_all_metadata === 'true';
        const latest = a.latest === undefined ? Infinity : Number(a.latest);
        const inclusive = a.inclusive === true || a.inclusive === 'true';
        const inRange = (ts: number) => (inclusive ? ts >= oldest && ts <= latest : ts > oldest && ts < latest);
        const { page, more } = this.page('conversations.history', a, this.roots(ch.id).filter((m) => inRange(Number(m.ts))).reverse());
        return {
          team: ws.teamId,
          result: { messages: page.map((m) => ({ type: 'message', ts: m.ts, text: m.text, user: m.user, ...(m.botId ? { bot_id: m.botId } : {}), ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}), ...(m.fields ?? {}) })), ...more },
        };
      }
      case 'conversations.replies': {
        const ws = this.auth(a, authorization, 'channels:history');
        const ch = this.channelOf(ws, a.channel);
        if (!ch.isMember) throw new SlackApiError('not_in_channel');
        const ts = requiredString(a.ts, 'ts');
        const root = this.messages.find((m) => m.channel === ch.id && m.ts === ts);
        if (!root) throw new SlackApiError('thread_not_found');
        const withMetadata = a.include_all_metadata === true || a.include_all_metadata === 'true';
        const { page, more } = this.page('conversations.replies', a, [root, ...this.replies(ch.id, ts)]);
        return {
          team: ws.teamId,
          result: { messages: page.map((m) => ({ type: 'message', ts: m.ts, thread_ts: m.threadTs, text: m.text, user: m.user, ...(m.botId ? { bot_id: m.botId } : {}), ...(m.files ? { files: m.files } : {}), ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}) })), ...more },
        };
      }
      case 'views.open': {
        const ws = this.auth(a, authorization);
        const trigger = requiredString(a.trigger_id, 'trigger_id');
        const t = this.triggers.get(trigger);
        if (!t || t.team !== ws.teamId) throw new SlackApiError('invalid_trigger_id');
        if (this.opts.now() - t.issuedAt > 3000) throw new SlackApiError('expired_trigger_id');
        this.triggers.delete(trigger);
        const view = checkView(a.view, 'modal');
        const id = `V${randomBytes(5).toString('hex').toUpperCase()}`;
        this.views.set(id, { team: ws.teamId, user: t.user, view });
        return { team: ws.teamId, result: { view: { id, team_id: ws.teamId, ...view } } };
      }
      case 'views.update': {
        const ws = this.auth(a, authorization);
        const id = requiredString(a.view_id, 'view_id');
        const existing = this.views.get(id);
        if (!existing || existing.team !== ws.teamId) throw new SlackApiError('not_found');
        existing.view = checkView(a.view, 'modal');
        return { team: ws.teamId, result: { view: { id, ...existing.view } } };
      }
      case 'views.push': {
        const ws = this.auth(a, authorization);
        const t = this.triggers.get(requiredString(a.trigger_id, 'trigger_id'));
        if (!t || t.team !== ws.teamId) throw new SlackApiError('invalid_trigger_id');
        this.triggers.delete(a.trigger_id as string);
        const view = checkView(a.view, 'modal');
        const id = `V${randomBytes(5).toString('hex').toUpperCase()}`;
        this.views.set(id, { team: ws.teamId, user: t.user, view });
        return { team: ws.teamId, result: { view: { id, team_id: ws.teamId, ...view } } };
      }
      case 'views.publish': {
        const ws = this.auth(a, authorization);
        const user = requiredString(a.user_id, 'user_id');
        if (!ws.users.some((u) => u.id === user)) throw new SlackApiError('user_not_found');
        const view = checkView(a.view, 'home');
        this.homeTabs.set(`${ws.teamId}:${user}`, view);
        return { team: ws.teamId, result: { view: { id: `VHOME${user}`, ...view } } };
      }
      case 'oauth.v2.access': {
        const basic = authorization?.startsWith('Basic ') ? Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':') : [];
        const clientId = (a.client_id as string | undefined) ?? basic[0];
        const clientSecret = (a.client_secret as string | undefined) ?? basic[1];
        if (clientId !== this.opts.oauth.clientId) throw new SlackApiError('invalid_client_id');
        if (clientSecret !== this.opts.oauth.clientSecret) throw new SlackApiError('bad_client_secret');
        if (a.grant_type === 'refresh_token') {
          // A refresh token works once: Slack revokes it with the answer that carries the next one.
          const refresh = requiredString(a.refresh_token, 'refresh_token');
          const team = this.refreshTokens.get(refresh);
          if (!team) throw new SlackApiError('invalid_refresh_token');
          this.refreshTokens.delete(refresh);
          return { team, result: this.grant(this.workspaces.get(team)!) };
        }
        const code = requiredString(a.code, 'code');
        const grant = this.oauthCodes.get(code);
        if (!grant) throw new SlackApiError('invalid_code');
        this.oauthCodes.delete(code);
        if (grant.redirectUri && grant.redirectUri !== a.redirect_uri) throw new SlackApiError('bad_redirect_uri');
        const ws = this.workspaces.get(grant.team)!;
        const answer = { authed_user: { id: ws.users[0]?.id ?? 'U0ADMIN' }, ...this.grant(ws) };
        // An org-wide install answers for the enterprise: no team, `enterprise` and `is_enterprise_install` set.
        if (grant.orgWide) Object.assign(answer, { team: null, enterprise: { id: ws.enterpriseId ?? `E${ws.teamId.slice(1)}`, name: `Org of ${ws.teamName}` }, is_enterprise_install: true });
        return { team: ws.teamId, result: answer };
      }
      case 'files.getUploadURLExternal': {
        const ws = this.auth(a, authorization, 'files:write');
        const filename = requiredString(a.filename, 'filename');
        const length = Number(a.length);
        if (!Number.isInteger(length) || length < 1) throw new SlackApiError('invalid_arguments', { response_metadata: { messages: ['[ERROR] length must be a positive integer'] } });
        const fileId = `F${randomBytes(5).toString('hex').toUpperCase()}`;
        this.uploads.set(fileId, { team: ws.teamId, filename, length });
        return { team: ws.teamId, result: { upload_url: `${this.url}/upload/${fileId}`, file_id: fileId } };
      }
      case 'files.completeUploadExternal': {
        const ws = this.auth(a, authorization, 'files:write');
        const files = parseJsonArg(a.files, 'files') as { id: string; title?: string }[];
        if (!Array.isArray(files) || files.length === 0) throw new SlackApiError('invalid_arguments');
        const shared = files.map((f) => {
          const up = this.uploads.get(f.id);
          if (!up || up.team !== ws.teamId) throw new SlackApiError('file_not_found');
          if (!up.bytes || up.bytes.length !== up.length) throw new SlackApiError('file_upload_size_mismatch');
          return { id: f.id, name: up.filename, title: f.title ?? up.filename, size: up.length };
        });
        if (a.channel_id !== undefined) {
          const ch = this.channelOf(ws, a.channel_id);
          if (!ch.isMember) throw new SlackApiError('not_in_channel');
          this.record({ team: ws.teamId, channel: ch.id, ts: this.nextTs(), threadTs: a.thread_ts as string | undefined, text: (a.initial_comment as string | undefined) ?? '', user: ws.botUserId, botId: ws.botId, edits: 0, files: shared });
        }
        return { team: ws.teamId, result: { files: shared } };
      }
      case 'files.info':
        return filesInfo(this.files, this.url, this.auth(a, authorization, 'files:read'), a);
      case 'users.conversations':
        return usersConversations(this.auth(a, authorization, 'channels:read'), a);
      default:
        throw new SlackApiError('unknown_method');
    }
  }
}

/** files.info: the whole file object, URLs in the asking workspace's name, for a file of that workspace or shared with it. */
function filesInfo(files: SlackEmulator['files'], url: string, ws: EmulatedWorkspace, a: Args): { team: string; result: Record<string, unknown> } {
  const id = requiredString(a.file, 'file');
  const f = files.get(id);
  if (!f || (f.team !== ws.teamId && !f.sharedWith?.has(ws.teamId))) throw new SlackApiError('file_not_found');
  const base = `${url}/files-pri/${ws.teamId}-${id}`;
  return {
    team: ws.teamId,
    result: {
      file: {
        id, created: 1_700_000_000, timestamp: 1_700_000_000, name: f.name, title: f.name, mimetype: f.mimetype, filetype: f.name.split('.').pop() ?? '', user_team: f.team,
        editable: false, size: f.bytes.length, mode: 'hosted', is_external: false, is_public: false, url_private: `${base}/${encodeURIComponent(f.name)}`,
        url_private_download: `${base}/download/${encodeURIComponent(f.name)}`,
      },
      comments: [],
      response_metadata: { next_cursor: '' },
    },
  };
}

/** users.conversations for the bot: the channels it is a member of (one page; `types` filters public and private). */
function usersConversations(ws: EmulatedWorkspace, a: Args): { team: string; result: Record<string, unknown> } {
  const types = String(a.types ?? 'public_channel').split(',');
  const channels = ws.channels
    .filter((c) => c.isMember && types.includes(c.isPrivate ? 'private_channel' : 'public_channel'))
    .map((c) => ({ id: c.id, name: c.name, is_channel: !c.isPrivate, is_group: false, is_private: c.isPrivate ?? false, is_archived: false, is_member: true, is_ext_shared: c.isExtShared ?? false, is_shared: c.isExtShared ?? false, context_team_id: ws.teamId }));
  return { team: ws.teamId, result: { channels, response_metadata: { next_cursor: '' } } };
}

class RateLimited extends Error {
  constructor(readonly retryAfter: number) {
    super('ratelimited');
  }
}

function readArgs(contentType: string, body: Buffer, query: URLSearchParams): Args {
  const args: Args = Object.fromEntries(query);
  if (contentType.includes('application/json')) return { ...args, ...((safeJson(body.toString('utf8')) as Args | undefined) ?? {}) };
  if (contentType.includes('application/x-www-form-urlencoded')) return { ...args, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) };
  return args;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function requiredString(v: unknown, name: string): string {
  if (typeof v !== 'string' || !v) throw new SlackApiError('invalid_arguments', { response_metadata: { messages: [`[ERROR] missing required field: ${name}`] } });
  return v;
}

function optionalString(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  return requiredString(v, name);
}

function parseJsonArg(v: unknown, name: string): unknown {
  if (typeof v !== 'string') return v;
  const parsed = safeJson(v);
  if (parsed === undefined) throw new SlackApiError('invalid_arguments', { response_metadata: { messages: [`[ERROR] ${name} is not valid JSON`] } });
  return parsed;
}

/** Slack's Block Kit rules (testing/block-kit.ts): a message's blocks answer invalid_blocks, a view's invalid_arguments. */
function checkBlocks(blocks: Block[]): void {
  const problems = blockKitProblems(blocks, 'message');
  if (problems.length) throw new SlackApiError('invalid_blocks', { errors: problems, response_metadata: { messages: problems.map((m) => `[ERROR] ${m}`) } });
}

function checkContent(a: Args): { text: string; blocks?: Block[] } {
  const blocks = a.blocks === undefined ? undefined : (parseJsonArg(a.blocks, 'blocks') as Block[]);
  if (blocks !== undefined) checkBlocks(blocks);
  const text = typeof a.text === 'string' ? a.text : '';
  if (!text && !blocks?.length) throw new SlackApiError('no_text');
  if (text.length > 40_000) throw new SlackApiError('msg_too_long');
  return { text, blocks };
}

function checkView(v: unknown, type: 'modal' | 'home'): Block {
  const view = parseJsonArg(v, 'view') as Block | undefined;
  const problems = viewProblems(view, type);
  if (problems.length) throw new SlackApiError('invalid_arguments', { response_metadata: { messages: problems.map((m) => `[ERROR] ${m}`) } });
  return view!;
}
