import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

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
  /** When set, GET /metrics answers only `Authorization: Bearer <this>`. */
  metricsToken?: string;
  publicRateLimitPerMinute: number;
  ingestBatchMax: number;
  ingestBatchMin: number;
  /** Ingest transactions in flight at once (each a lane of threads). */
  ingestLanes: number;
  jobAttempts: number;
  jobBackoffMs: number;
  /** How long a web chat upload no message claimed is kept before the sweep deletes it. */
  uploadRetentionHours: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  poolSize: number;
  /** How long a webhook route may reuse a channel installation it looked up. */
  installationCacheMs: number;
  /** How long a process trusts a user's role and membership it looked up for an access token. */
  userCacheMs: number;
  /** Keep-alive comment interval of event streams; a removed user's open stream ends at the next one. */
  eventsHeartbeatMs: number;
  /** false: `start` serves the API only, leaving relay and workers to `hummdesk worker` processes. */
  runJobs: boolean;
  /** External model providers; accounts choose one in settings.ai.provider, these are the defaults. */
  ai: AiConfig;
  /** The embedding model knowledge-base vectors are built with; a change reindexes in the background. */
  embeddings: EmbeddingsConfig;
  /** Origins (`https://host[:port]`) whose pages may call /api/v1 from a browser; empty: none. */
  apiOrigins: string[];
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
    if (key.length !== 32) throw new Error('HUMMDESK_SECRET_KEY must be 32 bytes (64 hex characters or base64)');
    return key;
  }
  const file = join(dataDir, 'secret.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex'), { mode: 0o600 });
  return key;
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
    metricsToken: env.HUMMDESK_METRICS_TOKEN || undefined,
    publicRateLimitPerMinute: int(env, 'HUMMDESK_PUBLIC_RATE_LIMIT', 120),
    ingestBatchMax: int(env, 'HUMMDESK_INGEST_BATCH_MAX', 128),
    ingestBatchMin: Math.max(1, int(env, 'HUMMDESK_INGEST_BATCH_MIN', 8)),
    ingestLanes: Math.max(1, int(env, 'HUMMDESK_INGEST_LANES', 2)),
    jobAttempts: int(env, 'HUMMDESK_JOB_ATTEMPTS', 5),
    jobBackoffMs: int(env, 'HUMMDESK_JOB_BACKOFF_MS', 1000),
    uploadRetentionHours: Math.max(1, int(env, 'HUMMDESK_UPLOAD_RETENTION_HOURS', 24)),
    accessTokenTtlSeconds: int(env, 'HUMMDESK_ACCESS_TOKEN_TTL', 900),
    refreshTokenTtlSeconds: int(env, 'HUMMDESK_REFRESH_TOKEN_TTL', 30 * 24 * 3600),
    poolSize: int(env, 'HUMMDESK_DB_POOL', 20),
    installationCacheMs: int(env, 'HUMMDESK_INSTALLATION_CACHE_MS', 5000),
    userCacheMs: int(env, 'HUMMDESK_USER_CACHE_MS', 5000),
    eventsHeartbeatMs: Math.max(50, int(env, 'HUMMDESK_EVENTS_HEARTBEAT_MS', 25_000)),
    runJobs: (env.HUMMDESK_RUN_JOBS || 'true') !== 'false',
    ai: aiConfig(env),
    embeddings: embeddingsConfig(env),
    apiOrigins: apiOrigins(env),
  };
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
  };
}
