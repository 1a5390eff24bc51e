import { ImapFlow } from 'imapflow';
import type { ServerConfig } from './config.js';

/** An ImapFlow client for a mailbox; quiet unless HUMMDESK_IMAP_DEBUG is set. */
export function imapClient(s: ServerConfig, extra: { disableAutoIdle?: boolean; autoIdleDelay?: number } = {}): ImapFlow {
  return new ImapFlow({
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
