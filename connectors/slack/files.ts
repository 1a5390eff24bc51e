import type { WebClient } from '@slack/web-api';
import { PermanentError, TransientError } from '../core/errors.js';
import { toConnectorError } from './client.js';

const FILE_REF = 'slack-file:';

/** An attachment ref for a file known only by its id (a Slack Connect stub): files.info has its URL. */
export function slackFileRef(fileId: string): string {
  return `${FILE_REF}${fileId}`;
}

export function slackFileIdOf(ref: string): string | undefined {
  return ref.startsWith(FILE_REF) ? ref.slice(FILE_REF.length) || undefined : undefined;
}

export interface SlackFileInfo {
  url: string;
  name?: string;
  mimetype?: string;
  size?: number;
}

/**
 * What a file another organisation shared looks like to us: Slack Connect delivers a stub
 * (`file_access: "check_file_info"`, no url_private), and files.info with our bot token gives the rest.
 */
export async function slackFileInfo(client: WebClient, fileId: string): Promise<SlackFileInfo> {
  let file: { url_private_download?: string; url_private?: string; name?: string; title?: string; mimetype?: string; size?: number; file_access?: string } | undefined;
  try {
    file = (await client.files.info({ file: fileId })).file as typeof file;
  } catch (err) {
    throw toConnectorError(err);
  }
  const url = file?.url_private_download ?? file?.url_private;
  if (!file || !url) throw new PermanentError('slack', `Slack gave no download URL for file ${fileId}${file?.file_access ? ` (file_access: ${file.file_access})` : ''}`, 'slack_file_unavailable');
  return {
    url,
    ...(file.name ?? file.title ? { name: file.name ?? file.title } : {}),
    ...(file.mimetype ? { mimetype: file.mimetype } : {}),
    ...(typeof file.size === 'number' ? { size: file.size } : {}),
  };
}

/** Slack's own file limit is 1 GB; a support hub keeps what an email attachment could carry. */
export const MAX_SLACK_FILE_BYTES = 25 * 1024 * 1024;

/**
 * Downloads a file shared in Slack (its url_private) with the workspace's bot token. The token is
 * only ever sent to Slack's file host, or to the configured API host (the local emulator in tests).
 */
export async function downloadSlackFile(p: { url: string; token: string | undefined; apiUrl: string; maxBytes?: number; fetch?: typeof fetch }): Promise<Buffer> {
  const max = p.maxBytes ?? MAX_SLACK_FILE_BYTES;
  if (!p.token) throw new PermanentError('slack', 'the Slack installation has no bot token', 'slack_token_missing');
  if (!isSlackFileUrl(p.url, p.apiUrl)) throw new PermanentError('slack', 'not a Slack file URL', 'slack_file_url_invalid');
  let res: Response;
  try {
    // A redirect means Slack did not accept the token (it sends the sign-in page): never follow it with the token.
    res = await (p.fetch ?? fetch)(p.url, { headers: { authorization: `Bearer ${p.token}` }, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new TransientError('slack', `file download failed: ${(err as Error).message}`);
  }
  if (res.status >= 500) throw new TransientError('slack', `file download answered HTTP ${res.status}`);
  if (res.status !== 200) throw new PermanentError('slack', `Slack refused the file download (HTTP ${res.status}); the app needs files:read`, 'slack_file_forbidden');
  if (Number(res.headers.get('content-length') ?? 0) > max) throw new PermanentError('slack', `file larger than ${max} bytes`, 'slack_file_too_large');
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > max) throw new PermanentError('slack', `file larger than ${max} bytes`, 'slack_file_too_large');
  return bytes;
}

export function isSlackFileUrl(url: string, apiUrl: string): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:' && u.hostname === 'files.slack.com') return true;
    const api = new URL(apiUrl);
    return api.hostname !== 'slack.com' && u.origin === api.origin;
  } catch {
    return false;
  }
}
