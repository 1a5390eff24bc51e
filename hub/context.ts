import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { ChannelKind, Connector } from '../connectors/core/types.js';
import { EgressGuard } from '../connectors/core/egress.js';
import type { Database } from '../storage/database.js';
import { openDatabase } from '../storage/open.js';
import { LocalBlobStore } from '../storage/blob-store.js';
import { SecretBox } from '../storage/secret-box.js';
import type { HubConfig } from './config.js';
import { createMetrics, type HubMetrics } from './metrics.js';
import type { EventBus } from './realtime/events.js';
import { LocalEventBus } from './realtime/local-bus.js';
import type { JobHandlers, JobRunner } from './queue/jobs.js';
import { InProcessRunner } from './queue/in-process.js';
import { ForegroundPressure } from './queue/foreground.js';
import { IngestService } from './services/ingest.js';
import { InstallationCache } from './services/installations.js';
import { ConversationService } from './services/conversations.js';
import type { ConversationAi, Surface } from './ai-stage.js';
import { analyzeHandler } from './workers/analyze.js';
import { surfaceHandler } from './workers/surface.js';
import { deliverHandler } from './workers/deliver.js';
import { readMarkHandler } from './workers/read-mark.js';
import { templateSyncHandler } from './workers/template-sync.js';
import { kbReindexHandler } from './workers/kb-reindex.js';
import { mediaFetchHandler } from './workers/media-fetch.js';
import { handbackHandler } from './workers/handback.js';
import { kbImportHandler } from './workers/kb-import.js';
import { embeddersFromConfig, type EmbedderSet } from '../ai/embed/set.js';
import { AiThreadPool } from '../ai/workers/pool.js';
import { LocalModels } from '../ai/workers/models.js';
import { aiStageBudget, aiStageDatabase } from './queue/ai-stage-budget.js';

/** Everything a hub process shares: store, queue, bus and the registries channels and AI plug into. */
export interface Hub {
  config: HubConfig;
  log: Logger;
  db: Database;
  box: SecretBox;
  blobs: LocalBlobStore;
  bus: EventBus;
  runner: JobRunner;
  /** HTTP requests this process has not answered yet; in-process jobs give way to them. */
  foreground: ForegroundPressure;
  metrics: HubMetrics;
  ingest: IngestService;
  /** Channel installations by id or webhook key, cached briefly. */
  installations: InstallationCache;
  conversations: ConversationService;
  connectors: Map<ChannelKind, Connector>;
  /** Checks every connection to a tenant-given host (HUMMDESK_ALLOW_PRIVATE_HOSTS, HUMMDESK_ALLOW_INSECURE_TLS). */
  egress: EgressGuard;
  surfaces: Surface[];
  /** `models`: the local models, run in AI threads that start with the first work (HUMMDESK_AI_THREADS). */
  ai: { provider?: ConversationAi; models: LocalModels };
  /** Embedding models: the configured one builds knowledge-base indexes (HUMMDESK_EMBEDDINGS_*). */
  embedders: EmbedderSet;
  handlers: JobHandlers;
  /** Starts relay and/or workers; an API-only process starts neither. */
  startJobs(opts: { relay: boolean; work: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function createHub(config: HubConfig, opts: { log?: Logger; db?: Database } = {}): Promise<Hub> {
  const log = opts.log ?? pino({ level: config.logLevel, name: 'hummdesk' });
  const db = opts.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: join(config.dataDir, 'pglite'), poolSize: config.poolSize }));
  const box = new SecretBox(config.secretKey);
  const blobs = new LocalBlobStore(join(config.dataDir, 'blobs'));
  // Redis and BullMQ load only in a process that uses them: the embedded default never pays for them.
  const bus: EventBus = config.redisUrl ? await (await import('./realtime/redis-bus.js')).RedisEventBus.connect(config.redisUrl) : new LocalEventBus();
  const metrics = createMetrics();
  // Jobs mostly wait on a platform (a Teams or Slack post, a delivery: 50–300 ms a call), not on this thread.
  const runnerOpts = { attempts: config.jobAttempts, backoffBaseMs: config.jobBackoffMs, concurrency: config.jobConcurrency, pollMs: 500, log };
  const foreground = new ForegroundPressure();
  const models = new LocalModels(new AiThreadPool({ size: config.ai.threads, log }));
  const runner: JobRunner = config.redisUrl
    ? new (await import('./queue/bullmq.js')).BullmqRunner(db, metrics, { ...runnerOpts, redisUrl: config.redisUrl })
    : // The embedded store is one connection on the main thread: fewer jobs at once leave room for requests,
      // and they pause for waiting requests. On PostgreSQL a job's queries do not hold this thread.
      new InProcessRunner(db, metrics, { ...runnerOpts, concurrency: db.kind === 'pglite' ? 2 : config.jobConcurrency, leaseMs: 5 * 60_000, foreground, pacedByRequests: db.kind === 'pglite', wide: aiStageBudget(db.kind, models) });
  const connectors = new Map<ChannelKind, Connector>();
  const surfaces: Surface[] = [];
  const ai: Hub['ai'] = { models };
  const embedders = embeddersFromConfig(config.embeddings, models.embedder);
  const ingest = new IngestService(db, {
    bus, metrics, blobs, batchMax: config.ingestBatchMax, batchMin: config.ingestBatchMin,
    // PGlite has a single connection; on Postgres a few lanes keep batches large (measured: bench/ingest).
    concurrency: db.kind === 'pglite' ? 1 : config.ingestLanes,
    onOutbox: () => runner.kick(),
  });
  const egress = new EgressGuard({ allow: config.egress.allowPrivateHosts, allowInsecureTls: config.egress.allowInsecureTls });
  const installations = new InstallationCache(db, box, config.installationCacheMs);
  const conversations = new ConversationService(db, { bus, runner: () => runner, blobs });
  const handlers: JobHandlers = {
    'ai.classify': analyzeHandler({ db: aiStageDatabase(db, config.poolSize), bus, ai: () => ai.provider }),
    'surface.sync': surfaceHandler(() => surfaces),
    deliver: deliverHandler({ db, box, bus, blobs, connectors: () => connectors, maxAttempts: config.jobAttempts }),
    'media.fetch': mediaFetchHandler({ db, box, bus, blobs, connectors: () => connectors, backoffBaseMs: config.jobBackoffMs }),
    'channel.handback': handbackHandler({ db, box, connectors: () => connectors }),
    'channel.read': readMarkHandler({ db, box, connectors: () => connectors }),
    'whatsapp.templates': templateSyncHandler({ db, box, connectors: () => connectors }),
    'kb.reindex': kbReindexHandler({ db, embedders: () => embedders, maxAttempts: config.jobAttempts, options: { batchSize: config.embeddings.batchSize } }),
    'kb.import': kbImportHandler({ db, embedders: () => embedders, maxAttempts: config.jobAttempts, kick: () => runner.kick() }),
  };
  let started = false;
  return {
    config, log, db, box, blobs, bus, runner, foreground, metrics, ingest, installations, conversations, connectors, egress, surfaces, ai, embedders, handlers,
    async startJobs(o) {
      started = true;
      await runner.start(handlers, o);
    },
    async close() {
      if (started) await runner.stop();
      else if (runner.kind === 'bullmq') await runner.stop();
      await Promise.allSettled([...connectors.values()].map((c) => c.close?.()));
      await models.close();
      await bus.close();
      await db.close();
    },
  };
}
