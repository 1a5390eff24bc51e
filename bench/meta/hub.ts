/**
 * The hub under test for `npm run bench -- meta`, in its own process: Postgres, the in-process job
 * runner, the WhatsApp connector pointed at the Graph emulator of run.ts. AI and surface jobs do
 * nothing here, so the figures are the webhook and media path alone. One account, one business number.
 */
import { buildApp } from '../../hub/app.js';
import { loadConfig } from '../../hub/config.js';
import { createHub } from '../../hub/context.js';
import { installConnectors } from '../../hub/connectors.js';
import { migrate } from '../../storage/migrate.js';
import { withAccount } from '../../storage/session.js';
import { insertChannel } from '../../storage/repositories/channels.js';

const env = process.env;
const config = loadConfig(env);
const hub = await createHub(config);
await migrate(hub.db);
installConnectors(hub);
hub.handlers['ai.classify'] = async () => undefined;
hub.handlers['surface.sync'] = async () => undefined;
// The second phase starts a new hub on the same database: the account and number are there already.
const accountId = (await hub.db.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ('Bench', 'bench-meta') ON CONFLICT (slug) DO UPDATE SET name = excluded.name RETURNING id`)).rows[0]!.id;
await withAccount(hub.db, accountId, async (tx) => {
  if ((await tx.query(`SELECT 1 FROM channels WHERE kind = 'whatsapp' AND external_key = $1`, [env.BENCH_NUMBER])).rowCount) return;
  await insertChannel(tx, hub.box, { accountId, kind: 'whatsapp', name: 'WhatsApp', externalKey: env.BENCH_NUMBER!, secrets: { accessToken: env.BENCH_TOKEN! }, config: { graphVersion: 'v25.0' } });
});
const app = await buildApp(hub);
await app.listen({ port: config.port, host: '127.0.0.1' });
if (env.BENCH_JOBS === 'true') await hub.startJobs({ relay: true, work: true });
process.stdout.write('meta bench hub ready\n');
process.on('SIGTERM', () => void app.close().then(() => hub.close()).then(() => process.exit(0)));
