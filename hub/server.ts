import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { HubConfig } from './config.js';
import { createHub, type Hub } from './context.js';
import { migrate } from '../storage/migrate.js';
import { installConnectors } from './connectors.js';
import { installSlack } from './install-slack.js';
import { installTeams } from './install-teams.js';
import { installAi } from './install-ai.js';
import { seedDemo } from './services/demo.js';
import { seedDemoKnowledge } from './services/demo-knowledge.js';
import { setupState, setupToken } from './services/setup.js';
import { startListeners } from './listeners.js';
import { startUploadSweep } from './services/upload-sweep.js';
import { startSlackTokenRefresh } from './slack/token-rotation.js';
import { startSnoozeWake } from './services/snooze-wake.js';

export interface RunningHub {
  hub: Hub;
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

/** What `hummdesk start` prints while the hub has no account: the setup link (the token in its fragment, never sent to a server) and the token. */
function firstRunLines(publicUrl: string, token: string): string {
  return (
    `  No workspace yet: open ${publicUrl.replace(/\/+$/, '')}/#setup=${token} to create yours and become its owner.\n` +
    `  Setup token:      ${token} (the page asks for it; it works until the first workspace exists)\n`
  );
}

/** `hummdesk start`: migrate, seed the demo on an empty embedded store, listen, run jobs. */
export async function startServer(config: HubConfig, opts: { jobs?: boolean; seed?: boolean; listeners?: boolean } = {}): Promise<RunningHub> {
  const started = Date.now();
  const hub = await createHub(config);
  await migrate(hub.db);
  installConnectors(hub);
  installSlack(hub);
  installTeams(hub);
  const ai = installAi(hub, { warm: false });
  const app = await buildApp(hub);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const url = typeof address === 'object' && address ? `http://${config.host}:${address.port}` : config.publicUrl;
  // PORT=0 takes any free port: the links the hub writes (invites, Slack) point at the one it got.
  if (config.port === 0 && config.publicUrl === `http://${config.host}:0`) hub.config.publicUrl = url;
  let demoAccountToFurnish: string | undefined;
  if (opts.seed ?? !config.databaseUrl) {
    const demo = await seedDemo(hub.db, hub.box, config.dataDir, url);
    if (demo.created) demoAccountToFurnish = demo.accountId;
    if (demo.credentials) {
      hub.log.info({ email: demo.credentials.email }, 'demo account ready');
      process.stdout.write(
        `\n  HummDesk is running at ${url}\n` +
          `  Demo agent login: ${demo.credentials.email} / ${demo.credentials.password}\n` +
          `  API key (admin):  ${demo.credentials.apiKey}\n` +
          `  API docs:         ${url}/docs\n\n`,
      );
    }
  } else {
    // A production hub's first owner is made from its page with the token only this terminal shows (or headless, `hummdesk account create`).
    process.stdout.write(`\n  HummDesk is running at ${url}\n${(await setupState(hub.db)).needed ? firstRunLines(hub.config.publicUrl, setupToken(config.secretKey)) : ''}\n`);
  }
  if (opts.jobs ?? config.runJobs) await hub.startJobs({ relay: true, work: true });
  const sweep = (opts.jobs ?? config.runJobs) ? startUploadSweep(hub) : undefined;
  const tokens = (opts.jobs ?? config.runJobs) ? startSlackTokenRefresh(hub) : undefined;
  const wake = (opts.jobs ?? config.runJobs) ? startSnoozeWake(hub) : undefined;
  // IMAP (and other long-lived inbound) listeners feed the same ingest path as webhooks.
  const listeners = (opts.listeners ?? true) ? startListeners(hub) : undefined;
  hub.log.info({ url, store: hub.db.kind, queue: hub.runner.kind, ms: Date.now() - started }, 'hub started');
  // Models load once the hub serves, so they never delay start-up; an API-only process (no jobs)
  // loads them on first use instead (KB search), keeping its CPU for requests.
  const runsJobs = opts.jobs ?? config.runJobs;
  // A stop during warm-up does not wait for the models (their threads are ended with the hub); only the
  // demo knowledge base, once its writes began, is let finish before the store closes.
  let closing = false;
  let seeding: Promise<unknown> | undefined;
  const warming = (runsJobs ? ai.warm() : Promise.resolve()).then(
    async () => {
      if (closing) return;
      if (runsJobs) hub.log.info('local AI models loaded');
      // The demo's help centre needs the embedding model, so it is written once the model is in.
      if (demoAccountToFurnish) await (seeding = seedDemoKnowledge(hub.db, demoAccountToFurnish, ai.embedder));
    },
    (err: unknown) => {
      if (!closing) hub.log.warn({ err }, 'local AI models failed to load; the first AI job will retry');
    },
  );
  warming.catch((err: unknown) => hub.log.warn({ err }, 'the demo knowledge base could not be written'));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      closing = true;
      // Stop taking requests first, then let jobs in flight finish, then close the store.
      await app.close();
      await seeding?.catch(() => undefined);
      await listeners?.stop();
      await sweep?.stop();
      await tokens?.stop();
      await wake?.stop();
      await hub.close();
    })());
  return { hub, app, url, stop };
}

/** `hummdesk worker`: relay and job workers only, for scaling out beside API processes. */
export async function startWorker(config: HubConfig): Promise<{ hub: Hub; stop(): Promise<void> }> {
  if (!config.redisUrl) throw new Error('hummdesk worker needs REDIS_URL: without it, jobs run inside `hummdesk start`');
  const hub = await createHub(config);
  await migrate(hub.db);
  installConnectors(hub);
  installSlack(hub);
  installTeams(hub);
  installAi(hub);
  await hub.startJobs({ relay: true, work: true });
  const sweep = startUploadSweep(hub);
  const tokens = startSlackTokenRefresh(hub);
  const wake = startSnoozeWake(hub);
  hub.log.info({ queue: hub.runner.kind }, 'worker started');
  const stop = async () => {
    await sweep.stop();
    await tokens.stop();
    await wake.stop();
    await hub.close();
  };
  return { hub, stop };
}
