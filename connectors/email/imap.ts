import { createRequire } from 'node:module';
import type { ImapFlow } from 'imapflow';
import type { EgressGuard } from '../core/egress.js';
import type { ServerConfig } from './config.js';

// imapflow (with its MIME, charset and proxy libraries) loads when a mailbox is first reached, not with the hub.
const require = createRequire(import.meta.url);
const imapflow = () => require('imapflow') as typeof import('imapflow');

export interface ImapClientOptions {
  disableAutoIdle?: boolean;
  autoIdleDelay?: number;
  /** Largest literal (one message body) the client accepts; the connection fails beyond it. */
  maxLiteralSize?: number;
}

/** Memory bound when none is given: no message we would parse is larger (PARSE_DEFAULTS.maxMessageBytes) plus headroom. */
const DEFAULT_MAX_LITERAL = 48 * 1024 * 1024;

/**
 * An ImapFlow client for a mailbox, connected to the address the egress guard checked (the host
 * name is only the TLS server name), with certificate checks the operator alone may switch off.
 * Quiet unless HUMMDESK_IMAP_DEBUG is set.
 */
export async function imapClient(s: ServerConfig, egress: EgressGuard, extra: ImapClientOptions = {}): Promise<ImapFlow> {
  const target = await egress.check({ protocol: 'imap', host: s.host, port: s.port });
  const maxLiteralSize = extra.maxLiteralSize ?? DEFAULT_MAX_LITERAL;
  return new (imapflow().ImapFlow)({
    host: target.address,
    port: target.port,
    ...(target.servername ? { servername: target.servername } : {}),
    secure: s.secure,
    auth: s.accessToken ? { user: s.user, accessToken: s.accessToken } : { user: s.user, pass: s.password ?? '' },
    tls: { rejectUnauthorized: egress.verifyTls(s.rejectUnauthorized) },
    logger: process.env.HUMMDESK_IMAP_DEBUG ? undefined : false,
    missingIdleCommand: 'STATUS',
    connectionTimeout: 30_000,
    greetingTimeout: 15_000,
    disableAutoIdle: extra.disableAutoIdle,
    ...(extra.autoIdleDelay !== undefined ? { autoIdleDelay: extra.autoIdleDelay } : {}),
    maxLiteralSize,
    maxResponseSize: maxLiteralSize + 1024 * 1024,
  });
}

/** APPENDs one message to a folder (the Sent copy of a reply). */
export async function appendToFolder(s: ServerConfig, egress: EgressGuard, folder: string, raw: Buffer, flags: string[]): Promise<void> {
  const client = await imapClient(s, egress, { disableAutoIdle: true, maxLiteralSize: Math.max(DEFAULT_MAX_LITERAL, raw.length) });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.append(folder, raw, flags);
  } finally {
    await client.logout().catch(() => client.close());
  }
}
