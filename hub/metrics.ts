import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per hub instance, so several apps in one test process do not collide. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hummdesk_' });
  return {
    registry,
    ingested: new Counter({
      name: 'hummdesk_ingest_events_total',
      help: 'Inbound events ingested, by channel kind and outcome',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: 'hummdesk_ingest_duration_seconds',
      help: 'Time from ingest call to durable commit',
      labelNames: ['kind'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    ingestBatchSize: new Histogram({
      name: 'hummdesk_ingest_batch_size',
      help: 'Ingest calls committed per transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'hummdesk_jobs_total',
      help: 'Jobs run, by topic and outcome',
      labelNames: ['topic', 'result'] as const,
      registers: [registry],
    }),
    jobFailures: new Counter({
      name: 'hummdesk_job_failures_total',
      help: 'Job attempts that threw, by topic',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    uploadsSwept: new Counter({
      name: 'hummdesk_uploads_swept_total',
      help: 'Web chat uploads no message claimed, deleted after the retention period',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'hummdesk_queue_depth',
      help: 'Jobs waiting or dead, by state',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
  };
}

export type HubMetrics = ReturnType<typeof createMetrics>;
