import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { EgressError, parseAllowList } from '../connectors/core/egress.js';
import { teamsConfigFromEnv, type TeamsAppConfig } from '../connectors/teams/config.js';

/** Everything the hub reads from the environment, in one place; README lists the same names. */
export interface HubConfig {
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl?: string;
  redisUrl?: string;
  dataDir: string;
  /** 32 bytes; encrypts channel secrets at rest and signs tokens. */
  secretKey: Buffer;
  bodyLimit: number;
  logLevel: string;
  rateLimitPerMinute: number;
  /** Requests per minute per platform webhook URL and sending address (HUMMDESK_WEBHOOK_RATE_LIMIT). */
  webhookRateLimitPerMinute: number;
  /** When set, GET /metrics answers only `Authorization: Bearer <this>`. */
  metricsToken?: string;
  publicRateLimitPerMinute: number;
  ingestBatchMax: number;
  ingestBatchMin: number;
  /** Ingest transactions in flight at once (each a lane of threads). */
  ingestLanes: number;
  jobAttempts: number;
  jobBackoffMs: number;
  /** Jobs one process runs at once on PostgreSQL (most wait on a platform's API: a surface post, a delivery); PGlite runs 2. */
  jobConcurrency: number;
  /** How long a web chat upload no message claimed is kept before the sweep deletes it. */
  uploadRetentionHours: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** How long a spent refresh token presented again answers the same new pair (parallel refreshes), not theft. */
  refreshReuseGraceSeconds: number;
  poolSize: number;
  /** How long a webhook route may reuse a channel installation it looked up. */
  installationCacheMs: number;
  /** How long a process trusts a user's role and membership it looked up for an access token. */
  userCacheMs: number;
  /** Keep-alive comment interval of event streams; a removed user's open stream ends at the next one. */
  eventsHeartbeatMs: number;
  /** Lifetime of a web chat visitor token; the widget trades it for a fresh one before it expires. */
  visitorTokenTtlSeconds: number;
  /** How long after its expiry a visitor token can still be traded for a fresh one (the visitor resumes their chat). */
  visitorResumeSeconds: number;
  /** Open event streams (agent and visitor) per client address, and per user, API key or visitor, in one process. */
  streamsPerAddress: number;
  streamsPerPrincipal: number;
  /** Bytes anonymous web chat may upload within `windowHours`, per visitor, per address and per channel. */
  uploadQuota: { visitorBytes: number; addressBytes: number; channelBytes: number; windowHours: number };
  /** false: `start` serves the API only, leaving relay and workers to `hummdesk worker` processes. */
  runJobs: boolean;
  /** External model providers; accounts choose one in settings.ai.provider, these are the defaults. */
  ai: AiConfig;
  /** The embedding model knowledge-base vectors are built with; a change reindexes in the background. */
  embeddings: EmbeddingsConfig;
  /** Origins (`https://host[:port]`) whose pages may call /api/v1 from a browser; empty: none. */
  apiOrigins: string[];
  /** Connections to tenant-given hosts (mail servers): what the operator allows beyond public hosts and protocol ports. */
  egress: { allowPrivateHosts: string[]; allowInsecureTls: boolean };
  /** The hub's Teams bot (HUMMDESK_TEAMS_*); without an app id every Teams request is refused. */
  teams: TeamsAppConfig;
  /** The operator's Meta app(s) for WhatsApp and Messenger webhooks: secrets that sign them, handshake tokens, the Graph API address. */
  meta: { appSecrets: string[]; verifyTokens: string[]; graphUrl: string; /** HUMMDESK_META_APP_ID: a Messenger echo sent by one of these apps is our own send. */ appIds?: string[] };
  /** WhatsApp through a linked phone (whatsapp-web.js): the system Chromium it drives, where LocalAuth keeps browser profiles. */
  whatsappWeb?: { executablePath: string; dataDir: string };
}

export interface EmbeddingsConfig {
  provider: 'local' | 'openai-compatible';
  /** An OpenAI-compatible server's base URL (…/v1); defaults to HUMMDESK_OPENAI_BASE_URL. */
  baseUrl?: string;
  model?: string;
  apiKey?: string;
  /** Expected vector size; unset, it is learned from the first answer. */
  dimension?: number;
  /** Texts per request. */
  batchSize: number;
  timeoutMs: number;
  maxRetries: number;
}

export interface AiConfig {
  /** Default provider: HUMMDESK_AI_PROVIDER, else anthropic with a key, else openai-compatible with a base URL, else local. */
  provider: 'local' | 'anthropic' | 'openai-compatible';
  anthropicApiKey?: string;
  anthropicModel: string;
  anthropicBaseUrl?: string;
  openaiBaseUrl?: string;
  openaiModel?: string;
  openaiApiKey?: string;
  timeoutMs: number;
  maxRetries: number;
  /** Threads the local models run in (ai/workers/pool.ts); 0: one per core. */
  threads: number;
  /** HUMMDESK_AI_ACCOUNT_PROVIDERS: the providers an account may choose in its AI settings (local always). */
  accountProviders: ('local' | 'anthropic' | 'openai-compatible')[];
  /** HUMMDESK_AI_TENANT_KEYS: an account may give its own Anthropic / OpenAI-compatible key (endpoints stay the operator's). */
  tenantKeys: boolean;
}

type Env = Record<string, string | undefined>;

/** A setting the hub cannot start with; `code` is stable, the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

/** Reads HUMMDESK_SECRET_KEY, or keeps a generated key in the data folder so restarts can decrypt. */
function secretKey(env: Env, dataDir: string): Buffer {
  const given = env.HUMMDESK_SECRET_KEY;
  if (given) {
    const key = /^[0-9a-f]{64}$/i.test(given) ? Buffer.from(given, 'hex') : Buffer.from(given, 'base64');
    if (key.length !== 32) throw new ConfigError('secret_key_invalid', 'HUMMDESK_SECRET_KEY must be 32 bytes (64 hex characters or base64) (secret_key_invalid)');
    return key;
  }
  const file = join(dataDir, 'secret.key');
  return readSecretKey(file) ?? createSecretKey(file);
}

/** The key in `file`, undefined when there is none; anything but 64 hex characters stops start-up rather than sign with a weak key. */
function readSecretKey(file: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!/^[0-9a-f]{64}$/i.test(text))
    throw new ConfigError(
      'secret_key_invalid',
      `${file} must hold 64 hex characters (a 32-byte key) but ${text ? 'holds something else' : 'is empty'} (secret_key_invalid). ` +
        'Restore it from a backup, or set HUMMDESK_SECRET_KEY; removing it makes a new key, and channel secrets encrypted with the old one are lost',
    );
  return Buffer.from(text, 'hex');
}

/** Writes a new key whole or not at all (temp file, fsync, link); when another process wrote one first, that one is used. */
function createSecretKey(file: string): Buffer {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const key = randomBytes(32);
  const tmp = `${file}.${randomUUID()}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, key.toString('hex'));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // A link, unlike rename, never replaces a key another process has just written and started with.
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readSecretKey(file)!;
  } finally {
    unlinkSync(tmp);
  }
  syncDir(dir);
  return key;
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not every platform can sync a directory; the file itself is synced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function loadConfig(env: Env = process.env): HubConfig {
  const dataDir = resolve(env.HUMMDESK_DATA_DIR || '.hummdesk');
  const port = int(env, 'PORT', 3000);
  const host = env.HOST || '127.0.0.1';
  return {
    port,
    host,
    publicUrl: (env.HUMMDESK_PUBLIC_URL || `http://${host}:${port}`).replace(/\/$/, ''),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    dataDir,
    secretKey: secretKey(env, dataDir),
    bodyLimit: int(env, 'HUMMDESK_BODY_LIMIT', 1024 * 1024),
    logLevel: env.LOG_LEVEL || 'info',
    rateLimitPerMinute: int(env, 'HUMMDESK_RATE_LIMIT', 1200),
    webhookRateLimitPerMinute: int(env, 'HUMMDESK_WEBHOOK_RATE_LIMIT', 60_000),
    metricsToken: env.HUMMDESK_METRICS_TOKEN || undefined,
    publicRateLimitPerMinute: int(env, 'HUMMDESK_PUBLIC_RATE_LIMIT', 120),
    ingestBatchMax: int(env, 'HUMMDESK_INGEST_BATCH_MAX', 128),
    ingestBatchMin: Math.max(1, int(env, 'HUMMDESK_INGEST_BATCH_MIN', 8)),
    ingestLanes: Math.max(1, int(env, 'HUMMDESK_INGEST_LANES', 2)),
    jobAttempts: int(env, 'HUMMDESK_JOB_ATTEMPTS', 5),
    jobBackoffMs: int(env, 'HUMMDESK_JOB_BACKOFF_MS', 1000),
    jobConcurrency: Math.max(1, int(env, 'HUMMDESK_JOB_CONCURRENCY', 8)),
    uploadRetentionHours: Math.max(1, int(env, 'HUMMDESK_UPLOAD_RETENTION_HOURS', 24)),
    accessTokenTtlSeconds: int(env, 'HUMMDESK_ACCESS_TOKEN_TTL', 900),
    refreshTokenTtlSeconds: int(env, 'HUMMDESK_REFRESH_TOKEN_TTL', 30 * 24 * 3600),
    refreshReuseGraceSeconds: int(env, 'HUMMDESK_REFRESH_REUSE_GRACE', 30),
    poolSize: int(env, 'HUMMDESK_DB_POOL', 20),
    installationCacheMs: int(env, 'HUMMDESK_INSTALLATION_CACHE_MS', 5000),
    userCacheMs: int(env, 'HUMMDESK_USER_CACHE_MS', 5000),
    eventsHeartbeatMs: Math.max(50, int(env, 'HUMMDESK_EVENTS_HEARTBEAT_MS', 25_000)),
    visitorTokenTtlSeconds: Math.max(60, int(env, 'HUMMDESK_VISITOR_TOKEN_TTL', 3600)),
    visitorResumeSeconds: int(env, 'HUMMDESK_VISITOR_RESUME_TTL', 30 * 24 * 3600),
    streamsPerAddress: Math.max(1, int(env, 'HUMMDESK_STREAMS_PER_ADDRESS', 50)),
    streamsPerPrincipal: Math.max(1, int(env, 'HUMMDESK_STREAMS_PER_PRINCIPAL', 10)),
    uploadQuota: {
      visitorBytes: int(env, 'HUMMDESK_UPLOAD_QUOTA_VISITOR', 100 * 1024 * 1024),
      addressBytes: int(env, 'HUMMDESK_UPLOAD_QUOTA_ADDRESS', 250 * 1024 * 1024),
      channelBytes: int(env, 'HUMMDESK_UPLOAD_QUOTA_CHANNEL', 5 * 1024 * 1024 * 1024),
      windowHours: Math.max(1, int(env, 'HUMMDESK_UPLOAD_QUOTA_HOURS', 24)),
    },
    runJobs: (env.HUMMDESK_RUN_JOBS || 'true') !== 'false',
    ai: aiConfig(env),
    embeddings: embeddingsConfig(env),
    apiOrigins: apiOrigins(env),
    egress: { allowPrivateHosts: allowPrivateHosts(env), allowInsecureTls: env.HUMMDESK_ALLOW_INSECURE_TLS === 'true' },
    teams: teamsConfigFromEnv(env),
    meta: metaConfig(env),
    whatsappWeb: { executablePath: env.HUMMDESK_WHATSAPP_WEB_CHROMIUM || '/usr/bin/chromium', dataDir: join(dataDir, 'whatsapp-web') },
  };
}

/** Comma-separated, so a hub can serve several Meta apps or rotate a secret without a gap. */
function metaConfig(env: Env): HubConfig['meta'] {
  const listOf = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const graphUrl = (env.HUMMDESK_META_GRAPH_URL || 'https://graph.facebook.com').replace(/\/+$/, '');
  let url: URL | undefined;
  try {
    url = new URL(graphUrl);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash)
    throw new ConfigError('invalid_meta_graph_url', `HUMMDESK_META_GRAPH_URL: "${graphUrl}" is not an http(s) base URL such as https://graph.facebook.com (invalid_meta_graph_url)`);
  return { appSecrets: listOf(env.HUMMDESK_META_APP_SECRET), verifyTokens: listOf(env.HUMMDESK_META_VERIFY_TOKEN), graphUrl, appIds: listOf(env.HUMMDESK_META_APP_ID) };
}

/** HUMMDESK_API_ORIGINS, written the way browsers send `Origin` (lower-case host, no default port). */
function apiOrigins(env: Env): string[] {
  const origins = (env.HUMMDESK_API_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return [...new Set(origins.map(apiOrigin))];
}

function apiOrigin(given: string): string {
  let url: URL | undefined;
  try {
    url = new URL(given);
  } catch {
    url = undefined;
  }
  // A path or wildcard would never equal a browser's Origin: refuse it rather than silently match nothing.
  if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || url.pathname !== '/' || /[?#*]/.test(given))
    throw new ConfigError('invalid_api_origin', `HUMMDESK_API_ORIGINS: "${given}" is not an origin (invalid_api_origin); list exact origins such as https://tools.example.com, separated by commas`);
  return url.origin;
}

function allowPrivateHosts(env: Env): string[] {
  try {
    return parseAllowList(env.HUMMDESK_ALLOW_PRIVATE_HOSTS);
  } catch (err) {
    if (err instanceof EgressError) throw new ConfigError('invalid_allow_private_hosts', `HUMMDESK_ALLOW_PRIVATE_HOSTS: ${err.message} (invalid_allow_private_hosts)`);
    throw err;
  }
}

function embeddingsConfig(env: Env): EmbeddingsConfig {
  const provider = env.HUMMDESK_EMBEDDINGS_PROVIDER || 'local';
  if (provider !== 'local' && provider !== 'openai-compatible') throw new Error(`HUMMDESK_EMBEDDINGS_PROVIDER must be local or openai-compatible, got "${provider}"`);
  const baseUrl = (env.HUMMDESK_EMBEDDINGS_BASE_URL || env.HUMMDESK_OPENAI_BASE_URL)?.replace(/\/$/, '') || undefined;
  const model = env.HUMMDESK_EMBEDDINGS_MODEL || undefined;
  if (provider === 'openai-compatible' && (!baseUrl || !model))
    throw new Error('HUMMDESK_EMBEDDINGS_PROVIDER=openai-compatible needs HUMMDESK_EMBEDDINGS_MODEL and HUMMDESK_EMBEDDINGS_BASE_URL (or HUMMDESK_OPENAI_BASE_URL)');
  // The model name goes into SQL literals of per-account index predicates: keep it to a plain alphabet.
  if (model && !/^[\w.:/@+-]{1,200}$/.test(model)) throw new Error(`HUMMDESK_EMBEDDINGS_MODEL may hold letters, digits and _.:/@+- only, got "${model}"`);
  const dimension = int(env, 'HUMMDESK_EMBEDDINGS_DIMENSION', 0);
  return {
    provider,
    baseUrl,
    model,
    apiKey: env.HUMMDESK_EMBEDDINGS_API_KEY || env.HUMMDESK_OPENAI_API_KEY || undefined,
    dimension: dimension || undefined,
    batchSize: Math.max(1, int(env, 'HUMMDESK_EMBEDDINGS_BATCH', 64)),
    timeoutMs: int(env, 'HUMMDESK_AI_TIMEOUT_MS', 30_000),
    maxRetries: int(env, 'HUMMDESK_AI_MAX_RETRIES', 2),
  };
}

function aiConfig(env: Env): AiConfig {
  const provider = env.HUMMDESK_AI_PROVIDER || (env.ANTHROPIC_API_KEY ? 'anthropic' : env.HUMMDESK_OPENAI_BASE_URL ? 'openai-compatible' : 'local');
  if (provider !== 'local' && provider !== 'anthropic' && provider !== 'openai-compatible')
    throw new Error(`HUMMDESK_AI_PROVIDER must be local, anthropic or openai-compatible, got "${provider}"`);
  return {
    provider,
    anthropicApiKey: env.ANTHROPIC_API_KEY || undefined,
    anthropicModel: env.HUMMDESK_ANTHROPIC_MODEL || 'claude-sonnet-5-5',
    anthropicBaseUrl: env.HUMMDESK_ANTHROPIC_BASE_URL || undefined,
    openaiBaseUrl: env.HUMMDESK_OPENAI_BASE_URL?.replace(/\/$/, '') || undefined,
    openaiModel: env.HUMMDESK_OPENAI_MODEL || undefined,
    openaiApiKey: env.HUMMDESK_OPENAI_API_KEY || undefined,
    timeoutMs: int(env, 'HUMMDESK_AI_TIMEOUT_MS', 30_000),
    maxRetries: int(env, 'HUMMDESK_AI_MAX_RETRIES', 2),
    threads: Math.max(0, int(env, 'HUMMDESK_AI_THREADS', 0)),
    ...accountAiChoices(env),
  };
}

function accountAiChoices(env: Env): Pick<AiConfig, 'accountProviders' | 'tenantKeys'> {
  const names = (env.HUMMDESK_AI_ACCOUNT_PROVIDERS ?? 'local,anthropic,openai-compatible').split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names)
    if (n !== 'local' && n !== 'anthropic' && n !== 'openai-compatible') throw new Error(`HUMMDESK_AI_ACCOUNT_PROVIDERS lists local, anthropic or openai-compatible, got "${n}"`);
  const accountProviders = [...new Set(['local', ...names])] as AiConfig['accountProviders'];
  return { accountProviders, tenantKeys: env.HUMMDESK_AI_TENANT_KEYS === 'true' || env.HUMMDESK_AI_TENANT_KEYS === '1' };
}
