import { installationKeyOf } from './routing.js';

/**
 * What arrives at the one Slack Request URL: Events API JSON, interactivity (`payload=` form field
 * holding JSON) or a slash command (plain form fields). Decoding is pure and never throws.
 */

export interface SlackFile {
  id: string;
  name?: string;
  title?: string;
  mimetype?: string;
  size?: number;
  url_private?: string;
  url_private_download?: string;
  /** `hosted`, `external`…; `file_access` on a Slack Connect stub. */
  mode?: string;
  /** `check_file_info` on a file another organisation shared: a stub without URLs, files.info has the rest. */
  file_access?: string;
}

export interface SlackMessageEvent {
  type: 'message';
  subtype?: string;
  channel: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  files?: SlackFile[];
  user_profile?: { real_name?: string; display_name?: string; name?: string; team?: string };
  bot_profile?: { id?: string; name?: string; app_id?: string; team_id?: string };
  username?: string;
  /** The workspace the message was posted from and (Slack Connect) the author's own workspace. */
  team?: string;
  user_team?: string;
  source_team?: string;
  /** message_changed: the message as it is now, and as it was. */
  message?: Omit<SlackMessageEvent, 'channel' | 'message' | 'previous_message'> & { edited?: { user?: string; ts: string } };
  previous_message?: Omit<SlackMessageEvent, 'channel' | 'message' | 'previous_message'>;
  /** message_deleted: the ts of the message that went. */
  deleted_ts?: string;
  event_ts?: string;
}

/** One installation the event is visible to: for Slack Connect, ours, whatever workspace the event came from. */
export interface SlackAuthorization {
  enterprise_id?: string | null;
  team_id?: string | null;
  user_id?: string;
  is_bot?: boolean;
  is_enterprise_install?: boolean;
}

export interface SlackEventEnvelope {
  type: 'event_callback';
  /** The workspace the event happened in: in a shared channel, possibly the customer's. */
  team_id?: string;
  enterprise_id?: string;
  context_team_id?: string | null;
  context_enterprise_id?: string | null;
  api_app_id?: string;
  event_id?: string;
  event_time?: number;
  is_ext_shared_channel?: boolean;
  authorizations?: SlackAuthorization[];
  event: { type: string; [key: string]: unknown };
}

export interface SlackInteraction {
  type: 'block_actions' | 'view_submission' | 'view_closed' | 'shortcut' | 'message_action' | string;
  team?: { id: string; domain?: string; enterprise_id?: string } | null;
  enterprise?: { id: string; name?: string } | null;
  is_enterprise_install?: boolean;
  user: { id: string; username?: string; name?: string; team_id?: string };
  api_app_id?: string;
  trigger_id?: string;
  response_url?: string;
  container?: { type: string; message_ts?: string; channel_id?: string; thread_ts?: string; is_ephemeral?: boolean };
  channel?: { id: string; name?: string };
  message?: { ts: string; thread_ts?: string; text?: string; user?: string; bot_id?: string };
  actions?: { type: string; action_id: string; block_id?: string; value?: string; selected_option?: { value: string } }[];
  view?: {
    id: string;
    type: string;
    callback_id?: string;
    private_metadata?: string;
    /** The workspace that installed the app and opened the view (a modal opened in a Slack Connect channel). */
    app_installed_team_id?: string;
    team_id?: string;
    state?: { values: Record<string, Record<string, { type: string; value?: string | null; selected_option?: { value: string } | null }>> };
  };
}

export interface SlackCommand {
  command: string;
  text: string;
  team_id: string;
  enterprise_id?: string;
  is_enterprise_install?: boolean;
  channel_id: string;
  user_id: string;
  user_name?: string;
  response_url?: string;
  trigger_id?: string;
}

export type SlackPayload =
  | { kind: 'url_verification'; challenge: string }
  | { kind: 'event'; envelope: SlackEventEnvelope }
  | { kind: 'interaction'; interaction: SlackInteraction }
  | { kind: 'command'; command: SlackCommand }
  /** Slack checking the certificate of a slash command URL: unsigned, answered 200 and nothing else. */
  | { kind: 'ssl_check' }
  /** Slack dropped our events of one minute (`minute_rate_limited`, epoch seconds) for over 30,000 an hour. */
  | { kind: 'app_rate_limited'; teamId: string; minute: number; apiAppId?: string }
  | { kind: 'unknown'; reason: string; teamId?: string };

function isForm(headers: Record<string, string | undefined>, raw: string): boolean {
  const type = headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) return true;
  if (type.includes('json')) return false;
  return !raw.trimStart().startsWith('{');
}

export function decodeSlackPayload(headers: Record<string, string | undefined>, rawBody: Buffer): SlackPayload {
  // A byte-order mark is not part of the payload (some recorded fixtures carry one).
  const raw = rawBody.toString('utf8').replace(/^\uFEFF/, '');
  if (isForm(headers, raw)) {
    const form = new URLSearchParams(raw);
    // Bolt answers these before verifying; so do we (nothing else in such a body is read).
    if (form.get('ssl_check') === '1') return { kind: 'ssl_check' };
    const payload = form.get('payload');
    if (payload !== null) {
      const parsed = parseJson(payload);
      if (!parsed || typeof parsed !== 'object' || typeof (parsed as { type?: unknown }).type !== 'string') return { kind: 'unknown', reason: 'interactivity payload is not a JSON object with a type' };
      return { kind: 'interaction', interaction: parsed as SlackInteraction };
    }
    const command = form.get('command');
    if (command !== null) {
      const field = (k: string) => form.get(k) ?? undefined;
      return {
        kind: 'command',
        command: {
          command, text: form.get('text') ?? '', team_id: form.get('team_id') ?? '', enterprise_id: field('enterprise_id'),
          is_enterprise_install: form.get('is_enterprise_install') === 'true', channel_id: form.get('channel_id') ?? '',
          user_id: form.get('user_id') ?? '', user_name: field('user_name'), response_url: field('response_url'), trigger_id: field('trigger_id'),
        },
      };
    }
    return { kind: 'unknown', reason: 'form body is neither interactivity nor a slash command' };
  }
  const body = parseJson(raw) as { type?: unknown; challenge?: unknown; event?: unknown; team_id?: unknown; minute_rate_limited?: unknown; api_app_id?: unknown } | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { kind: 'unknown', reason: 'body is not JSON' };
  if (body.type === 'url_verification' && typeof body.challenge === 'string') return { kind: 'url_verification', challenge: body.challenge };
  if (body.type === 'event_callback' && body.event && typeof body.event === 'object' && typeof (body.event as { type?: unknown }).type === 'string')
    return { kind: 'event', envelope: body as SlackEventEnvelope };
  const teamId = typeof body.team_id === 'string' && body.team_id ? body.team_id : undefined;
  if (body.type === 'app_rate_limited' && teamId && typeof body.minute_rate_limited === 'number')
    return { kind: 'app_rate_limited', teamId, minute: body.minute_rate_limited, ...(typeof body.api_app_id === 'string' ? { apiAppId: body.api_app_id } : {}) };
  return { kind: 'unknown', reason: `unhandled Slack payload type "${String(body.type)}"`, ...(teamId ? { teamId } : {}) };
}

/** The installation key a payload is for, by the one routing rule (routing.ts: authorizations first, never the envelope's team alone). */
export function teamOf(p: SlackPayload): string | undefined {
  return installationKeyOf(p);
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
