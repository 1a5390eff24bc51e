import type { ChannelInstallation } from '../core/types.js';
import { ConnectorError, PermanentError } from '../core/errors.js';
import type { EgressGuard } from '../core/egress.js';

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
    const port = Number(s.port ?? defaultPort(prefix, s.secure === true));
    // No default host: a mailbox server is always named explicitly (a default of loopback was an open door).
    if (typeof s.host !== 'string' || !s.host.trim()) throw new PermanentError('email', `channel ${channel.id}: ${prefix}.host is required`, 'email_host_required');
    return {
      host: s.host.trim(),
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

function defaultPort(protocol: 'imap' | 'smtp', secure: boolean): number {
  return protocol === 'imap' ? (secure ? 993 : 143) : secure ? 465 : 587;
}

/** A mailbox setting refused when the channel is created or changed; `code` is stable. */
export class MailboxConfigError extends ConnectorError {
  constructor(code: string, message: string) {
    super(message, 'email', code);
    this.name = 'MailboxConfigError';
  }
}

// One address: a local part without spaces or specials, and a domain of labels (IDN letters too) with a dot.
const ADDRESS = /^[^\s@<>()",;:\\[\]]{1,64}@(?=.{1,253}$)(?:(?!-)[\p{L}\p{N}-]{1,63}(?<!-)\.)+(?:\p{L}{2,63}|xn--[a-z0-9-]{1,59})$/iu;

/**
 * Checks an email channel's settings before they are stored: the address, each server's host and
 * port (through the egress guard, which resolves the host and refuses what the operator has not
 * allowed) and TLS verification, which only the operator may turn off. Throws MailboxConfigError or
 * EgressError, both with a stable code.
 */
export async function validateMailbox(config: Record<string, unknown>, externalKey: string, egress: EgressGuard): Promise<void> {
  const address = config.address ?? externalKey;
  if (typeof address !== 'string' || !ADDRESS.test(address)) throw new MailboxConfigError('email_address_invalid', `"${String(address)}" is not an email address`);
  for (const protocol of ['imap', 'smtp'] as const) {
    const v = config[protocol];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw new MailboxConfigError('channel_misconfigured', `${protocol} must be an object with host and port`);
    const s = v as Record<string, unknown>;
    if (typeof s.host !== 'string' || !s.host.trim()) throw new MailboxConfigError('email_host_required', `${protocol}.host is required: the name of your ${protocol.toUpperCase()} server`);
    if (s.port !== undefined && (typeof s.port !== 'number' || !Number.isInteger(s.port))) throw new MailboxConfigError('email_port_invalid', `${protocol}.port must be a whole number`);
    if (s.secure !== undefined && typeof s.secure !== 'boolean') throw new MailboxConfigError('channel_misconfigured', `${protocol}.secure must be true or false`);
    if (s.rejectUnauthorized === false && !egress.allowInsecureTls)
      throw new MailboxConfigError('insecure_tls_forbidden', `${protocol}.rejectUnauthorized: false is not allowed on this hub; certificates are always verified`);
    await egress.check({ protocol, host: s.host, port: (s.port as number | undefined) ?? defaultPort(protocol, s.secure === true) });
  }
  processedAction(undefined, config.processed ?? (config.imap as Record<string, unknown> | undefined)?.processed);
}

function processedAction(channelId: string | undefined, v: unknown): ProcessedAction | undefined {
  if (v === undefined || v === null) return undefined;
  const p = v as Record<string, unknown>;
  if (typeof p.flag === 'string' && p.flag && p.moveTo === undefined) return { flag: p.flag };
  if (typeof p.moveTo === 'string' && p.moveTo && p.flag === undefined) return { moveTo: p.moveTo };
  throw new PermanentError('email', `${channelId ? `channel ${channelId}: ` : ''}"processed" must be { flag: "\\Seen" } or { moveTo: "Folder" }`, 'channel_misconfigured');
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
