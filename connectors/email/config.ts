import type { ChannelInstallation } from '../core/types.js';
import { PermanentError } from '../core/errors.js';

/** One mailbox channel. `config` holds these fields; passwords live in the channel's secrets. */
export interface MailboxConfig {
  /** The support address; From of every reply, and the IMAP/SMTP login unless set there. */
  address: string;
  /** Shown when no agent name is known. */
  displayName?: string;
  /** Appended to every outbound reply (plain text; an HTML version is derived). */
  signature?: string;
  /** Reply-To: address+<token>@domain, so replies whose thread headers were dropped still find their conversation. */
  plusAddressing: boolean;
  /**
   * The authserv-id of the mailbox's own receiving server: only its Authentication-Results header is
   * believed (any other can be forged). Without it, mail never joins a conversation by subject alone.
   */
  authservId?: string;
  imap?: ServerConfig & { folder: string; sentFolder?: string; pollMs: number; processed?: ProcessedAction };
  smtp?: ServerConfig & { requireTLS: boolean; pool: boolean };
}

/** What happens to a mail in the mailbox once its ingest has committed (config `processed`); default nothing. */
export type ProcessedAction = { flag: string } | { moveTo: string };

export interface ServerConfig {
  host: string;
  port: number;
  /** TLS from the first byte (993/465); otherwise STARTTLS when offered (or required, for SMTP requireTLS). */
  secure: boolean;
  user: string;
  password?: string;
  /** OAuth2 access token (XOAUTH2), used instead of the password when set. */
  accessToken?: string;
  rejectUnauthorized: boolean;
}

export function mailboxConfig(channel: ChannelInstallation): MailboxConfig {
  const c = channel.config as Record<string, unknown>;
  const address = String(c.address ?? channel.externalKey);
  if (!address.includes('@')) throw new PermanentError('email', `channel ${channel.id} has no mailbox address`, 'channel_misconfigured');
  const server = (v: unknown, prefix: 'imap' | 'smtp'): ServerConfig | undefined => {
    if (!v || typeof v !== 'object') return undefined;
    const s = v as Record<string, unknown>;
    const port = Number(s.port ?? (prefix === 'imap' ? (s.secure ? 993 : 143) : s.secure ? 465 : 587));
    return {
      host: String(s.host ?? '127.0.0.1'),
      port,
      secure: s.secure === undefined ? port === 993 || port === 465 : Boolean(s.secure),
      user: String(s.user ?? address),
      password: channel.secrets[`${prefix}Password`] ?? channel.secrets.password,
      accessToken: channel.secrets[`${prefix}AccessToken`] ?? channel.secrets.accessToken,
      rejectUnauthorized: s.rejectUnauthorized !== false,
    };
  };
  const imap = server(c.imap, 'imap');
  const smtp = server(c.smtp, 'smtp');
  const ic = (c.imap ?? {}) as Record<string, unknown>;
  const sc = (c.smtp ?? {}) as Record<string, unknown>;
  return {
    address,
    displayName: typeof c.displayName === 'string' ? c.displayName : undefined,
    signature: typeof c.signature === 'string' ? c.signature : undefined,
    plusAddressing: c.plusAddressing === true,
    authservId: typeof c.authservId === 'string' && c.authservId.trim() ? c.authservId.trim() : undefined,
    imap: imap && { ...imap, folder: String(ic.folder ?? 'INBOX'), sentFolder: typeof ic.sentFolder === 'string' ? ic.sentFolder : undefined, pollMs: Number(ic.pollMs ?? 60_000), processed: processedAction(channel.id, c.processed ?? ic.processed) },
    smtp: smtp && { ...smtp, requireTLS: sc.requireTLS === true, pool: sc.pool !== false },
  };
}

function processedAction(channelId: string, v: unknown): ProcessedAction | undefined {
  if (v === undefined || v === null) return undefined;
  const p = v as Record<string, unknown>;
  if (typeof p.flag === 'string' && p.flag && p.moveTo === undefined) return { flag: p.flag };
  if (typeof p.moveTo === 'string' && p.moveTo && p.flag === undefined) return { moveTo: p.moveTo };
  throw new PermanentError('email', `channel ${channelId}: "processed" must be { flag: "\\Seen" } or { moveTo: "Folder" }`, 'channel_misconfigured');
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
