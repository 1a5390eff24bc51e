import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChannelInstallation } from '../connectors/core/types.js';
import type { WaWebClientFactory } from '../connectors/whatsapp/web/port.js';
import type { LinkRecord } from '../connectors/whatsapp/web/session.js';
import type { Database } from '../storage/database.js';
import type { HubConfig } from './config.js';
import { qrToTerminal } from '../connectors/whatsapp/web/qr.js';

/** `hummdesk whatsapp-web …`: link a phone to a whatsapp-web channel and show its state. */

export const WA_WEB_USAGE = `  whatsapp-web link CHANNEL [--phone DIGITS] [--timeout SECONDS]
                             link a phone to a whatsapp-web channel: prints the QR (or, with --phone, a pairing code)
  whatsapp-web status CHANNEL
                             the channel's link state on the first line (qr_required, ready, disconnected, logged_out)`;

export const WA_WEB_HELP = `${WA_WEB_USAGE.replace(/^ {2}whatsapp-web/gm, 'hummdesk whatsapp-web')}

CHANNEL is the channel's id or its key (waweb_…) from GET /api/v1/channels. Unofficial: WhatsApp may
ban numbers linked this way; the Cloud API (kind whatsapp) is the supported path.
link: when a hub runs the channel, shows the QR and pairing code it offers until the phone is linked;
otherwise opens WhatsApp Web itself (system Chromium, HUMMDESK_WHATSAPP_WEB_CHROMIUM), shows the QR, or
with --phone 358401234567 a code to type in WhatsApp → Linked devices → Link with phone number, and
ends when the phone is linked (messages arrive once a hub runs the channel). Exit 0 linked, 1 not
linked within --timeout (default 300). status: exit 0, 1 when there is no such channel.
Uses the database: DATABASE_URL, else the embedded store in HUMMDESK_DATA_DIR (stop the hub first).`;

/** A command line whatsapp-web cannot run; cli.ts prints it with the usage hint and exits 2. */
export class WaWebUsageError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(message);
  }
}

export interface WaWebCliDeps {
  config: HubConfig;
  db: Database;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Tests pass a fake client; the default is whatsapp-web.js. */
  factory?: WaWebClientFactory;
  pollMs?: number;
  /** Draw the QR with block characters (default: when stdout is a terminal). */
  drawQr?: boolean;
}

function args(where: string, argv: string[], options: NonNullable<Parameters<typeof parseArgs>[0]>['options']) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new WaWebUsageError(where, (e as Error).message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
  if (parsed.positionals.length !== 1) throw new WaWebUsageError(where, parsed.positionals.length ? `one CHANNEL expected, got ${parsed.positionals.length}` : 'missing CHANNEL (its id or waweb_… key)');
  return { channel: parsed.positionals[0]!, values: parsed.values as Record<string, string | undefined> };
}

/** Checks the command line before anything is opened (bad arguments exit 2 without touching the store). */
export function parseWaWebArgs(argv: string[]): { sub: 'link' | 'status'; channel: string; phone?: string; timeoutS: number } {
  const [sub, ...rest] = argv;
  if (sub !== 'link' && sub !== 'status') throw new WaWebUsageError('whatsapp-web', sub ? `unknown subcommand "${sub}" (expected link or status)` : 'missing subcommand (link or status)');
  if (sub === 'status') return { sub, channel: args('whatsapp-web status', rest, {}).channel, timeoutS: 0 };
  const { channel, values } = args('whatsapp-web link', rest, { phone: { type: 'string' }, timeout: { type: 'string' } });
  const phone = values.phone?.replace(/^\+/, '');
  if (phone !== undefined && !/^\d{6,15}$/.test(phone)) throw new WaWebUsageError('whatsapp-web link', `--phone is the number in international digits (358401234567), got "${values.phone}"`);
  const timeoutS = values.timeout === undefined ? 300 : Number(values.timeout);
  if (!Number.isInteger(timeoutS) || timeoutS < 1) throw new WaWebUsageError('whatsapp-web link', `--timeout is whole seconds, got "${values.timeout}"`);
  return { sub, channel, ...(phone ? { phone } : {}), timeoutS };
}

export async function whatsappWebCli(argv: string[], deps: WaWebCliDeps): Promise<number> {
  const cmd = parseWaWebArgs(argv);
  const out = deps.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const draw = deps.drawQr ?? process.stdout.isTTY === true;
  const err = deps.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const [{ withAccount }, { getInstallation }, { readLink }] = await Promise.all([
    import('../storage/session.js'),
    import('../storage/repositories/channels.js'),
    import('./whatsapp-web/link.js'),
  ]);
  // The operator's command: the one cross-tenant read, by the exact id or key typed.
  const { rows } = await deps.db.query<{ id: string; accountId: string }>(
    `SELECT id, account_id AS "accountId" FROM channels WHERE kind = 'whatsapp-web' AND (id::text = $1 OR external_key = $1)`,
    [cmd.channel],
  );
  const found = rows[0];
  if (!found) {
    err(`hummdesk whatsapp-web ${cmd.sub}: no whatsapp-web channel "${cmd.channel}"`);
    return 1;
  }
  const link = () => withAccount(deps.db, found.accountId, (tx) => readLink(tx, found.id));
  if (cmd.sub === 'status') {
    printLink(out, await link(), true, false);
    return 0;
  }
  const { SecretBox } = await import('../storage/secret-box.js');
  const box = new SecretBox(deps.config.secretKey);
  const installation = await withAccount(deps.db, found.accountId, (tx) => getInstallation(tx, box, found.id));
  if (!installation) throw new Error('the channel vanished while it was read');
  const deadline = Date.now() + cmd.timeoutS * 1000;
  const { claimLease, releaseLease, checkpointStore } = await import('./listeners.js');
  const owner = `cli/${hostname()}/${process.pid}/${randomUUID()}`;
  const leaseMs = 30_000;
  if (!(await claimLease({ db: deps.db }, found.accountId, found.id, owner, leaseMs))) {
    // A hub runs the channel: show what it offers until the phone is linked.
    if (cmd.phone) {
      err('hummdesk whatsapp-web link: a hub runs this channel, so --phone cannot ask it for a pairing code; scan the QR shown here or stop that hub first');
      return 1;
    }
    out('A hub runs this channel; showing the QR it offers (WhatsApp → Settings → Linked devices → Link a device).');
    return watch(link, out, deadline, deps.pollMs ?? 1000, draw);
  }
  const renew = setInterval(() => void claimLease({ db: deps.db }, found.accountId, found.id, owner, leaseMs).catch(() => undefined), leaseMs / 3);
  try {
    return await linkHere(installation, deps, checkpointStore({ db: deps.db }, found.accountId, found.id), out, err, deadline, cmd.phone, draw);
  } finally {
    clearInterval(renew);
    await releaseLease({ db: deps.db }, found.accountId, found.id, owner).catch(() => undefined);
  }
}

/** No hub runs the channel: this process opens WhatsApp Web, shows the QR or pairing code, and stops once linked. */
async function linkHere(
  installation: ChannelInstallation,
  deps: WaWebCliDeps,
  checkpoint: { set(key: string, value: unknown): Promise<void> },
  out: (l: string) => void,
  err: (l: string) => void,
  deadline: number,
  phone: string | undefined,
  draw: boolean,
): Promise<number> {
  const [{ WhatsAppWebConnector }, { LINK_KEY }, { databaseSessionStore }] = await Promise.all([
    import('../connectors/whatsapp/web/connector.js'),
    import('../connectors/whatsapp/web/session.js'),
    import('./whatsapp-web/session-store.js'),
  ]);
  const { SecretBox } = await import('../storage/secret-box.js');
  const settings = deps.config.whatsappWeb ?? { executablePath: '/usr/bin/chromium', dataDir: join(deps.config.dataDir, 'whatsapp-web') };
  const box = new SecretBox(deps.config.secretKey);
  const connector = new WhatsAppWebConnector({
    ...settings,
    ...(deps.factory ? { factory: deps.factory } : {}),
    remoteStore: (channel) => databaseSessionStore({ db: deps.db, box }, channel, join(settings.dataDir, 'remote')),
  });
  const controller = new AbortController();
  let result = 1;
  let saving: NodeJS.Timeout | undefined;
  let shown: LinkRecord | undefined;
  const remote = installation.config.auth === 'remote';
  const session = connector.session(
    installation,
    // Messages that arrive while linking are left on the phone: the hub's listener reads new ones once it runs.
    async () => {},
    async (l) => {
      await checkpoint.set(LINK_KEY, l);
      if (l.state === 'qr_required' && (l.qr !== shown?.qr || l.pairingCode !== shown?.pairingCode)) printLink(out, { ...l, listening: true }, false, draw);
      shown = l;
      if (l.state === 'ready') {
        out(`linked${l.account ? `: ${l.account}` : ''}`);
        result = 0;
        // RemoteAuth saves the session to the database a minute after linking.
        if (remote) out('saving the session to the database (about a minute)…');
        saving = setTimeout(() => controller.abort(), remote ? 75_000 : 0);
      } else if (l.code === 'chromium_not_found' || l.state === 'logged_out') {
        err(`hummdesk whatsapp-web link: ${l.code ?? l.state}: ${l.reason ?? ''}`);
        controller.abort();
      } else if (l.state === 'disconnected') err(`not linked yet: ${l.code ?? ''} ${l.reason ?? ''} (retrying)`);
    },
    phone ? { pairWithPhoneNumber: phone } : {},
  );
  const timer = setTimeout(() => {
    if (result !== 0) err('hummdesk whatsapp-web link: the phone was not linked in time (--timeout)');
    controller.abort();
  }, Math.max(0, deadline - Date.now()));
  try {
    await session.run(controller.signal);
  } finally {
    clearTimeout(timer);
    clearTimeout(saving);
  }
  return result;
}

async function watch(read: () => Promise<LinkRecord & { listening: boolean }>, out: (l: string) => void, deadline: number, pollMs: number, draw: boolean): Promise<number> {
  let last = '';
  for (;;) {
    const l = await read();
    const key = `${l.state}|${l.qr ?? ''}|${l.pairingCode ?? ''}`;
    if (key !== last) printLink(out, l, false, draw);
    last = key;
    if (l.state === 'ready') return 0;
    if (Date.now() > deadline) {
      out('not linked within --timeout');
      return 1;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The state on the first line (for scripts), then what a person needs: the QR text, the pairing code, the reason. */
function printLink(out: (l: string) => void, l: LinkRecord & { listening: boolean }, withDetails: boolean, draw: boolean): void {
  out(l.state);
  if (l.qr && draw) out(qrToTerminal(l.qr));
  if (l.account) out(`account: ${l.account}`);
  if (l.pairingCode) out(`pairing code: ${l.pairingCode.replace(/^(.{4})(.{4})$/, '$1-$2')} (WhatsApp → Linked devices → Link with phone number)`);
  if (l.qr) out(`qr: ${l.qr}${draw ? '' : '\n(run in a terminal to see it drawn, or render this text as a QR code; --phone gives a pairing code instead)'}`);
  if (l.code || l.reason) out(`reason: ${[l.code, l.reason].filter(Boolean).join(': ')}`);
  if (withDetails) {
    out(`listening: ${l.listening ? 'yes (a hub runs this channel)' : 'no'}`);
    out(`updated: ${l.updatedAt}`);
  }
}
