import { createRequire } from 'node:module';
import type { ImapFlow } from 'imapflow';
import type { ServerConfig } from './config.js';

// imapflow (with its MIME, charset and proxy libraries) loads when a mailbox is first reached, not with the hub.
const require = createRequire(import.meta.url);
const imapflow = () => require('imapflow') as typeof import('imapflow');

/** An ImapFlow client for a mailbox; quiet unless HUMMDESK_IMAP_DEBUG is set. */
export function imapClient(s: ServerConfig, extra: { disableAutoIdle?: boolean; autoIdleDelay?: number } = {}): ImapFlow {
  return new (imapflow().ImapFlow)({
    host: s.host,
    port: s.port,
    secure: s.secure,
    auth: s.accessToken ? { user: s.user, accessToken: s.accessToken } : { user: s.user, pass: s.password ?? '' },
    tls: { rejectUnauthorized: s.rejectUnauthorized },
    logger: process.env.HUMMDESK_IMAP_DEBUG ? undefined : false,
    missingIdleCommand: 'STATUS',
    connectionTimeout: 30_000,
    greetingTimeout: 15_000,
    ...extra,
  });
}

/** APPENDs one message to a folder (the Sent copy of a reply). */
export async function appendToFolder(s: ServerConfig, folder: string, raw: Buffer, flags: string[]): Promise<void> {
  const client = imapClient(s, { disableAutoIdle: true });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.append(folder, raw, flags);
  } finally {
    await client.logout().catch(() => client.close());
  }
}
