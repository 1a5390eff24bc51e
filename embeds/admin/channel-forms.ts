/** The admin console's channel forms as data: what is typed, what is wrong with it, and the request it makes. */

export type FieldErrors = Record<string, string>;

export interface EmailForm {
  name: string;
  address: string;
  displayName: string;
  imapHost: string;
  imapPort: string;
  imapSecure: boolean;
  imapUser: string;
  imapPassword: string;
  folder: string;
  sentFolder: string;
  smtpHost: string;
  smtpPort: string;
  smtpSecure: boolean;
  smtpUser: string;
  smtpPassword: string;
}

export const newEmailForm = (): EmailForm => ({
  name: '', address: '', displayName: '',
  imapHost: '', imapPort: '993', imapSecure: true, imapUser: '', imapPassword: '', folder: 'INBOX', sentFolder: '',
  smtpHost: '', smtpPort: '587', smtpSecure: false, smtpUser: '', smtpPassword: '',
});

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
// Any port: the hub refuses ports outside the protocol's own unless the operator allowed them (egress_port_forbidden).
const isPort = (v: string) => /^\d{1,5}$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 65535;

/** Field id → what is wrong, in the words the form shows; empty when the form can be sent. */
export function emailErrors(f: EmailForm): FieldErrors {
  const e: FieldErrors = {};
  if (!f.name.trim()) e['email-name'] = 'Give the channel a name.';
  if (!ADDRESS.test(f.address.trim())) e['email-address'] = 'Enter the support address, e.g. support@example.com.';
  if (!f.imapHost.trim()) e['email-imapHost'] = 'Enter the IMAP server\'s name.';
  if (!isPort(f.imapPort)) e['email-imapPort'] = 'Enter a port number: IMAP uses 993 (TLS) or 143.';
  if (!f.imapPassword) e['email-imapPassword'] = 'Enter the mailbox password.';
  if (!f.folder.trim()) e['email-folder'] = 'Name the folder to read, usually INBOX.';
  if (!f.smtpHost.trim()) e['email-smtpHost'] = 'Enter the SMTP server\'s name.';
  if (!isPort(f.smtpPort)) e['email-smtpPort'] = 'Enter a port number: SMTP uses 587, 465 (TLS), 25 or 2525.';
  return e;
}

/** The body of `POST /channels` (and `/channels/check`) for a valid form. */
export function emailRequest(f: EmailForm): { name: string; externalKey: string; config: Record<string, unknown>; secrets: Record<string, string> } {
  const address = f.address.trim();
  const imap: Record<string, unknown> = { host: f.imapHost.trim(), port: Number(f.imapPort), secure: f.imapSecure, folder: f.folder.trim() };
  if (f.imapUser.trim()) imap.user = f.imapUser.trim();
  if (f.sentFolder.trim()) imap.sentFolder = f.sentFolder.trim();
  const smtp: Record<string, unknown> = { host: f.smtpHost.trim(), port: Number(f.smtpPort), secure: f.smtpSecure };
  if (f.smtpUser.trim()) smtp.user = f.smtpUser.trim();
  const config: Record<string, unknown> = { address, imap, smtp };
  if (f.displayName.trim()) config.displayName = f.displayName.trim();
  const secrets: Record<string, string> = { imapPassword: f.imapPassword };
  if (f.smtpPassword) secrets.smtpPassword = f.smtpPassword;
  return { name: f.name.trim(), externalKey: address, config, secrets };
}

/** The allowed-origins box, one origin a line: the origins, and a sentence per line that is not one. */
export function originErrors(text: string): { origins: string[]; errors: string[] } {
  const origins: string[] = [];
  const errors: string[] = [];
  for (const raw of text.split(/[\n,]/)) {
    const line = raw.trim().replace(/\/+$/, '');
    if (!line) continue;
    let url: URL | undefined;
    try {
      url = new URL(line);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== line) {
      errors.push(`"${raw.trim()}" is not an origin like https://www.example.com (scheme and host, no path).`);
    } else if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return { origins, errors };
}

/** 32 random bytes as hex, made in the browser: the hub stores it sealed and never shows it again. */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Channels added with ids and a token from the platform's own console (Meta), or a code the bot posted (Teams). */
export type PlatformKind = 'whatsapp' | 'whatsapp-web' | 'messenger' | 'teams';

export interface PlatformForm {
  name: string;
  /** WhatsApp: the phone number id; Messenger: the Page id; Teams: the code the bot posted in the team. */
  key: string;
  token: string;
}

export const newPlatformForm = (): PlatformForm => ({ name: '', key: '', token: '' });

/** What each platform's form asks for, as its field ids say. */
export function platformErrors(kind: PlatformKind, f: PlatformForm): FieldErrors {
  const e: FieldErrors = {};
  if (kind !== 'teams' && !f.name.trim()) e[`${kind}-name`] = 'Give the channel a name.';
  if (kind === 'whatsapp' || kind === 'messenger') {
    const what = kind === 'whatsapp' ? 'phone number id' : 'Page id';
    if (!/^\d{5,32}$/.test(f.key.trim())) e[`${kind}-key`] = `The ${what} is digits only, as Meta's console shows it.`;
    if (!f.token.trim()) e[`${kind}-token`] = kind === 'whatsapp' ? 'Paste the access token (a system user token of the business).' : "Paste the Page's access token.";
  }
  if (kind === 'teams' && !/^[A-Za-z0-9 -]{8,20}$/.test(f.key.trim())) e['teams-key'] = 'Type the 8-character code the HummDesk bot posted in the team.';
  return e;
}

/** The request that creates the channel (or claims the Teams team). */
export function platformRequest(kind: PlatformKind, f: PlatformForm): { path: string; body: Record<string, unknown> } {
  if (kind === 'teams') return { path: '/msteams/installs', body: { code: f.key.trim() } };
  if (kind === 'whatsapp-web') return { path: '/channels', body: { kind, name: f.name.trim() } };
  return { path: '/channels', body: { kind, name: f.name.trim(), externalKey: f.key.trim(), secrets: { accessToken: f.token.trim() } } };
}
