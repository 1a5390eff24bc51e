import { parseArgs } from 'node:util';
import type { Database } from '../storage/database.js';
// Commands import what they need when they run, so `hummdesk email parse` never loads the hub.
import { loadConfig } from './config.js';
import { join } from 'node:path';
import { EVAL_USAGE } from '../ai/eval/usage.js';

const USAGE = `hummdesk <command>

Commands:
  start                      run the hub (HTTP API, webhooks, realtime, and jobs)
  worker                     run job workers only (needs REDIS_URL), for scale-out
  migrate [--to VERSION]     bring the database schema up (or down) to VERSION (default: newest)
  seed-demo                  create the demo account if it does not exist and print its logins
  account create --name NAME --slug SLUG --owner-email EMAIL [--owner-name NAME]
                             open a new tenant; prints the owner's first password and an admin API key
  api-key create --account SLUG --name NAME [--role admin|agent|viewer]
                             create an API key; the key is printed once
${EVAL_USAGE}
  email parse FILE.eml...    print a raw email as the normalized message JSON (visibleText, thread headers, flags)

Environment: see README.md (PORT, DATABASE_URL, REDIS_URL, HUMMDESK_DATA_DIR, ...).`;

async function withStore<T>(fn: (db: Database, config: ReturnType<typeof loadConfig>) => Promise<T>): Promise<T> {
  const { openDatabase } = await import('../storage/open.js');
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: join(config.dataDir, 'pglite'), poolSize: 2 });
  try {
    return await fn(db, config);
  } finally {
    await db.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start': {
      const { startServer } = await import('./server.js');
      const running = await startServer(loadConfig());
      onSignal(() => running.stop());
      return -1;
    }
    case 'worker': {
      const { startWorker } = await import('./server.js');
      const running = await startWorker(loadConfig());
      onSignal(() => running.stop());
      return -1;
    }
    case 'migrate': {
      const { migrate } = await import('../storage/migrate.js');
      const { values } = parseArgs({ args: rest, options: { to: { type: 'string' } } });
      const r = await withStore((db) => migrate(db, values.to));
      process.stdout.write(`schema version ${r.from} → ${r.to}\n`);
      return 0;
    }
    case 'seed-demo': {
      const [{ migrate }, { SecretBox }, { seedDemo }] = await Promise.all([import('../storage/migrate.js'), import('../storage/secret-box.js'), import('./services/demo.js')]);
      await withStore(async (db, config) => {
        await migrate(db);
        const demo = await seedDemo(db, new SecretBox(config.secretKey), config.dataDir, config.publicUrl);
        process.stdout.write(demo.credentials ? `${JSON.stringify(demo.credentials, null, 2)}\n` : 'demo account exists; its credentials file is not in this data folder\n');
      });
      return 0;
    }
    case 'account': {
      const [{ migrate }, { createAccount }] = await Promise.all([import('../storage/migrate.js'), import('./services/accounts.js')]);
      const [sub, ...args] = rest;
      const { values } = parseArgs({ args, options: { name: { type: 'string' }, slug: { type: 'string' }, 'owner-email': { type: 'string' }, 'owner-name': { type: 'string' } } });
      if (sub !== 'create' || !values.name || !values.slug || !values['owner-email']) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      return withStore(async (db) => {
        await migrate(db);
        const created = await createAccount(db, { name: values.name!, slug: values.slug!, ownerEmail: values['owner-email']!, ownerName: values['owner-name'] });
        process.stdout.write(`${JSON.stringify({ accountId: created.accountId, ownerEmail: values['owner-email'], ownerPassword: created.ownerPassword, apiKey: created.apiKey }, null, 2)}\n`);
        return 0;
      });
    }
    case 'api-key': {
      const { createApiKey } = await import('./services/auth.js');
      const [sub, ...args] = rest;
      const { values } = parseArgs({ args, options: { account: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', default: 'admin' } } });
      if (sub !== 'create' || !values.account || !values.name || !['admin', 'agent', 'viewer'].includes(values.role!)) {
        process.stderr.write(`${USAGE}\n`);
        return 2;
      }
      return withStore(async (db) => {
        const account = (await db.query<{ id: string }>(`SELECT id FROM accounts WHERE slug = $1`, [values.account])).rows[0];
        if (!account) {
          process.stderr.write(`no account with slug "${values.account}"\n`);
          return 1;
        }
        const { key } = await createApiKey(db, account.id, { name: values.name!, role: values.role as 'admin' | 'agent' | 'viewer' }, { kind: 'system', id: null });
        process.stdout.write(`${key}\n`);
        return 0;
      });
    }
    case 'email': {
      const { emailCli } = await import('../connectors/email/cli.js');
      return emailCli(rest);
    }
    case 'eval': {
      const { runEval } = await import('../ai/eval/command.js');
      return runEval(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command ? 0 : 2;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

function onSignal(stop: () => Promise<void>): void {
  let signals = 0;
  const handler = (signal: string) => {
    // A second signal means the operator will not wait: exit now.
    if (++signals > 1) process.exit(130);
    process.stderr.write(`\n${signal}: finishing jobs in flight and closing connections…\n`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
