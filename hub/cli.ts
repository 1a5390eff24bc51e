import { parseArgs } from 'node:util';
import type { Database } from '../storage/database.js';
// Commands import what they need when they run, so `hummdesk email parse` never loads the hub.
import { loadConfig } from './config.js';
import { join } from 'node:path';
import { EVAL_USAGE } from '../ai/eval/usage.js';
import { TEAMS_HELP, TEAMS_USAGE } from './cli-teams.js';

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
${TEAMS_USAGE}
  meta parse FILE...         print Meta (WhatsApp, Messenger) webhook bodies as normalized events; meta conformance checks the shared sets

\`hummdesk <command> --help\` shows one command's usage.
Environment: see README.md (PORT, DATABASE_URL, REDIS_URL, HUMMDESK_DATA_DIR, ...).`;

const STORE_NOTE = 'Uses the database: DATABASE_URL, else the embedded store in HUMMDESK_DATA_DIR (default ./.hummdesk),\nwhich only one process may open at a time (data_dir_locked).';

/** Each command's own usage, printed by `hummdesk <command> --help` without loading or touching anything. */
const COMMAND_USAGE: Record<string, string> = {
  start: `hummdesk start\n\nRuns the hub: HTTP API, webhooks, realtime and, unless HUMMDESK_RUN_JOBS=false, jobs.\n${STORE_NOTE}`,
  worker: 'hummdesk worker\n\nRuns the outbox relay and job workers only, beside `hummdesk start` processes. Needs REDIS_URL and DATABASE_URL.',
  migrate: `hummdesk migrate [--to VERSION]\n\nBrings the database schema up (or down) to VERSION, default the newest.\n${STORE_NOTE}`,
  'seed-demo': `hummdesk seed-demo\n\nCreates the demo account if it does not exist and prints its logins.\n${STORE_NOTE}`,
  account: `hummdesk account create --name NAME --slug SLUG --owner-email EMAIL [--owner-name NAME]\n\nOpens a new tenant; prints the owner's first password and an admin API key.\n${STORE_NOTE}`,
  'api-key': `hummdesk api-key create --account SLUG --name NAME [--role admin|agent|viewer]\n\nCreates an API key (default role admin); the key is printed once.\n${STORE_NOTE}`,
  email: 'hummdesk email parse [--channel ID] [--mailbox ADDRESS] [--html] [--attachments] FILE.eml...\n\nPrints each message as JSON: visibleText, full text, thread headers, attachments, auto-reply and\nbounce flags, and the event the hub would ingest. Needs no database.',
  teams: TEAMS_HELP,
  meta: 'hummdesk meta parse [--raw] [--lines] FILE...\nhummdesk meta conformance [--dir DIR] [--verbose]\n\nParses Meta webhook bodies (WhatsApp Cloud API, Messenger) into normalized events, or checks the shared payload sets against their\nhand-checked expected output (ends "N passed, 0 failed"). Needs no database.',
  eval: `hummdesk eval <classify|language|sentiment|draft> ...\n\n${EVAL_USAGE}\n\nMeasures the offline AI on your labelled data; the last line printed is one JSON object. Needs no database.`,
};

/** A command line the CLI cannot run: one line on stderr, exit 2. */
class UsageError extends Error {
  constructor(
    /** The command as typed so far (`account create`); empty for the command itself. */
    readonly where: string,
    what: string,
  ) {
    super(what);
  }

  get line(): string {
    return this.where ? `hummdesk ${this.where}: ${this.message} (see hummdesk ${this.where} --help)` : `hummdesk: ${this.message} (see hummdesk --help)`;
  }
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** parseArgs, strict, with its complaint turned into one line naming the command. */
function parse<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (err) {
    throw asUsageError(command, err);
  }
}

function asUsageError(command: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (!code.startsWith('ERR_PARSE_ARGS')) return err;
  // Node's messages go on with advice about `--`; the first sentence says what is wrong.
  const first = (err as Error).message.split(/\.\s/)[0]!.replace(/\.$/, '');
  return new UsageError(command, first);
}

/** The one subcommand `account` and `api-key` have. */
function only(command: string, sub: string | undefined, expected: string): void {
  if (sub !== expected) throw new UsageError(command, sub === undefined ? `missing subcommand "${expected}"` : `unknown subcommand "${sub}" (expected "${expected}")`);
}

function required(command: string, values: Record<string, unknown>, names: string[]): void {
  const missing = names.filter((n) => !values[n]);
  if (missing.length) throw new UsageError(command, `missing ${missing.map((n) => `--${n}`).join(', ')}`);
}

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
  if (command && COMMAND_USAGE[command] && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${COMMAND_USAGE[command]}\n`);
    return 0;
  }
  try {
    return await run(command, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.line}\n`);
      return 2;
    }
    // Settings and a data folder held by another process are the operator's to fix: the message says how, a stack would not.
    const code = (err as { code?: unknown }).code;
    if (err instanceof Error && (err.name === 'ConfigError' || err.name === 'DataDirLockedError') && typeof code === 'string') {
      process.stderr.write(`hummdesk: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function run(command: string | undefined, rest: string[]): Promise<number> {
  switch (command) {
    case 'start': {
      parse('start', rest, {});
      const config = loadConfig();
      // Before the hub loads, so a first start says at once what is happening and where to look.
      process.stdout.write(`HummDesk is starting… then open ${browserUrl(config)}\n`);
      const { startServer } = await import('./server.js');
      const running = await startServer(config);
      onSignal(() => running.stop());
      return -1;
    }
    case 'worker': {
      parse('worker', rest, {});
      const { startWorker } = await import('./server.js');
      const running = await startWorker(loadConfig());
      onSignal(() => running.stop());
      return -1;
    }
    case 'migrate': {
      const { values } = parse('migrate', rest, { to: { type: 'string' } });
      const { migrate } = await import('../storage/migrate.js');
      const r = await withStore((db) => migrate(db, values.to));
      process.stdout.write(`schema version ${r.from} → ${r.to}\n`);
      return 0;
    }
    case 'seed-demo': {
      parse('seed-demo', rest, {});
      const [{ migrate }, { SecretBox }, { seedDemo }] = await Promise.all([import('../storage/migrate.js'), import('../storage/secret-box.js'), import('./services/demo.js')]);
      await withStore(async (db, config) => {
        await migrate(db);
        const demo = await seedDemo(db, new SecretBox(config.secretKey), config.dataDir, config.publicUrl);
        process.stdout.write(demo.credentials ? `${JSON.stringify(demo.credentials, null, 2)}\n` : 'demo account exists; its credentials file is not in this data folder\n');
      });
      return 0;
    }
    case 'account': {
      const [sub, ...args] = rest;
      only('account', sub, 'create');
      const { values } = parse('account create', args, { name: { type: 'string' }, slug: { type: 'string' }, 'owner-email': { type: 'string' }, 'owner-name': { type: 'string' } });
      required('account create', values, ['name', 'slug', 'owner-email']);
      const [{ migrate }, { createAccount }] = await Promise.all([import('../storage/migrate.js'), import('./services/accounts.js')]);
      return withStore(async (db) => {
        await migrate(db);
        const created = await createAccount(db, { name: values.name!, slug: values.slug!, ownerEmail: values['owner-email']!, ownerName: values['owner-name'] });
        process.stdout.write(`${JSON.stringify({ accountId: created.accountId, ownerEmail: values['owner-email'], ownerPassword: created.ownerPassword, apiKey: created.apiKey }, null, 2)}\n`);
        return 0;
      });
    }
    case 'api-key': {
      const [sub, ...args] = rest;
      only('api-key', sub, 'create');
      const { values } = parse('api-key create', args, { account: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', default: 'admin' } });
      required('api-key create', values, ['account', 'name']);
      if (!['admin', 'agent', 'viewer'].includes(values.role!)) throw new UsageError('api-key create', `--role must be admin, agent or viewer, got "${values.role}"`);
      const { createApiKey } = await import('./services/auth.js');
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
      only('email', rest[0], 'parse');
      const { emailCli } = await import('../connectors/email/cli.js');
      return emailCli(rest).catch((err: unknown) => Promise.reject(asUsageError('email parse', err)));
    }
    case 'teams': {
      const { teamsCli, TeamsUsageError } = await import('./cli-teams.js');
      return teamsCli(rest).catch((err: unknown) => Promise.reject(err instanceof TeamsUsageError ? new UsageError(err.where, err.message) : err));
    }
    case 'meta': {
      if (rest[0] !== 'parse' && rest[0] !== 'conformance') throw new UsageError('meta', rest[0] ? `unknown subcommand "${rest[0]}" (expected parse or conformance)` : 'missing subcommand (parse or conformance)');
      const { metaCli } = await import('./cli-meta.js');
      return metaCli(rest).catch((err: unknown) => Promise.reject(asUsageError(`meta ${rest[0]}`, err)));
    }
    case 'eval': {
      const sub = rest[0];
      if (!sub || !['classify', 'language', 'sentiment', 'draft'].includes(sub)) throw new UsageError('eval', sub ? `unknown subcommand "${sub}" (expected classify, language, sentiment or draft)` : 'missing subcommand (classify, language, sentiment or draft)');
      const { runEval } = await import('../ai/eval/command.js');
      return runEval(rest).catch((err: unknown) => Promise.reject(asUsageError(`eval ${sub}`, err)));
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      (command ? process.stdout : process.stderr).write(`${USAGE}\n`);
      return command ? 0 : 2;
    default:
      throw new UsageError('', `unknown command "${command}"`);
  }
}

/** Where to point a browser: the loopback or wildcard address a server binds is "localhost" to its user. */
function browserUrl(config: ReturnType<typeof loadConfig>): string {
  if (config.port === 0) return 'the address printed below';
  const local = ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost'].includes(config.host);
  return `http://${local ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
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
