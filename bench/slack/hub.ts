/**
 * The hub under test for `npm run bench -- slack`, in its own process: Postgres, the job runner
 * (BullMQ when REDIS_URL is set), the Slack app pointed at the emulator; no AI stage, so the
 * figures are Slack's path alone. Creates one account with one Slack installation from the environment.
 */
import { buildApp } from '../../hub/app.js';
import { loadConfig } from '../../hub/config.js';
import { createHub } from '../../hub/context.js';
import { installConnectors } from '../../hub/connectors.js';
import { installSlack } from '../../hub/install-slack.js';
import { migrate } from '../../storage/migrate.js';
import { withAccount } from '../../storage/session.js';
import { insertChannel } from '../../storage/repositories/channels.js';

const env = process.env;
const config = loadConfig(env);
const hub = await createHub(config);
await migrate(hub.db);
installConnectors(hub);
installSlack(hub, { slackApiUrl: env.SLACK_API_URL, signingSecret: env.SLACK_SIGNING_SECRET });
const accountId = (await hub.db.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ('Bench', 'bench') RETURNING id`)).rows[0]!.id;
await withAccount(hub.db, accountId, (tx) =>
  insertChannel(tx, hub.box, {
    accountId, kind: 'slack', name: 'Slack: bench', externalKey: env.BENCH_TEAM!,
    secrets: { botToken: env.BENCH_BOT_TOKEN!, signingSecret: env.SLACK_SIGNING_SECRET! },
    config: JSON.parse(env.BENCH_SLACK_CONFIG!) as Record<string, unknown>,
  }),
);
const app = await buildApp(hub);
await app.listen({ port: config.port, host: '127.0.0.1' });
await hub.startJobs({ relay: true, work: true });
process.stdout.write('slack bench hub ready\n');
process.on('SIGTERM', () => void app.close().then(() => hub.close()).then(() => process.exit(0)));
