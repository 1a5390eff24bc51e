/**
 * The hub under test for `npm run bench -- slack`, in its own process: Postgres, BullMQ on Redis, the
 * Slack app pointed at the emulator; no AI provider, so the figures are Slack's path alone. One
 * account with one team per brand: each brand's customers write in its own Slack workspace (an
 * installation whose inbox belongs to that team), and every team's conversations are mirrored into
 * its own triage channel of the support workspace (one more installation).
 */
import { buildApp } from '../../hub/app.js';
import { loadConfig } from '../../hub/config.js';
import { createHub } from '../../hub/context.js';
import { installConnectors } from '../../hub/connectors.js';
import { installSlack } from '../../hub/install-slack.js';
import { migrate } from '../../storage/migrate.js';
import { withAccount } from '../../storage/session.js';
import { insertChannel } from '../../storage/repositories/channels.js';
import { insertTeam } from '../../storage/repositories/teams.js';

/** What run.ts hands over in BENCH_SETUP. */
export interface BenchSetup {
  support: { team: string; botToken: string; botUserId: string; triageChannels: string[] };
  brands: { team: string; botToken: string; botUserId: string; customerChannel: string }[];
}

const env = process.env;
const setup = JSON.parse(env.BENCH_SETUP!) as BenchSetup;
const config = loadConfig(env);
const hub = await createHub(config);
await migrate(hub.db);
if (env.BENCH_NO_AI_JOBS === '1') {
  // AI jobs off: ingest's ai.classify rows are not written (the hub has no provider, so they would only run as no-ops).
  await hub.db.query(`CREATE FUNCTION bench_no_ai_jobs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`);
  await hub.db.query(`CREATE TRIGGER bench_no_ai_jobs BEFORE INSERT ON outbox FOR EACH ROW WHEN (NEW.topic = 'ai.classify') EXECUTE FUNCTION bench_no_ai_jobs()`);
}
installConnectors(hub);
installSlack(hub, { slackApiUrl: env.SLACK_API_URL, signingSecret: env.SLACK_SIGNING_SECRET });
const accountId = (await hub.db.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ('Bench', 'bench') RETURNING id`)).rows[0]!.id;
await withAccount(hub.db, accountId, async (tx) => {
  const teams = [];
  for (let i = 0; i < setup.brands.length; i++) teams.push(await insertTeam(tx, { accountId, name: `Brand ${i + 1}` }));
  const secrets = (botToken: string) => ({ botToken, signingSecret: env.SLACK_SIGNING_SECRET! });
  await insertChannel(tx, hub.box, {
    accountId, kind: 'slack', name: 'Slack: support', externalKey: setup.support.team, secrets: secrets(setup.support.botToken),
    config: { botUserId: setup.support.botUserId, customerChannels: [], triageChannels: Object.fromEntries(teams.map((t, i) => [t.id, setup.support.triageChannels[i % setup.support.triageChannels.length]!])), threadReplies: 'notes' },
  });
  for (const [i, b] of setup.brands.entries())
    await insertChannel(tx, hub.box, {
      accountId, kind: 'slack', name: `Slack: brand ${i + 1}`, externalKey: b.team, secrets: secrets(b.botToken), teamId: teams[i]!.id,
      config: { botUserId: b.botUserId, customerChannels: [b.customerChannel] },
    });
});
const app = await buildApp(hub);
await app.listen({ port: config.port, host: '127.0.0.1' });
await hub.startJobs({ relay: true, work: true });
process.stdout.write('slack bench hub ready\n');
process.on('SIGTERM', () => void app.close().then(() => hub.close()).then(() => process.exit(0)));
