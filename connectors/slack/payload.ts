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
  user_profile?: { real_name?: string; display_name?: string; name?: string };
  username?: string;
  team?: string;
}

export interface SlackEventEnvelope {
  type: 'event_callback';
  team_id?: string;
  api_app_id?: string;
  event_id?: string;
  event_time?: number;
  is_ext_shared_channel?: boolean;
  authorizations?: { user_id?: string; is_bot?: boolean; team_id?: string | null }[];
  event: { type: string; [key: string]: unknown };
}

export interface SlackInteraction {
  type: 'block_actions' | 'view_submission' | 'view_closed' | 'shortcut' | 'message_action' | string;
  team?: { id: string; domain?: string } | null;
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
    state?: { values: Record<string, Record<string, { type: string; value?: string | null; selected_option?: { value: string } | null }>> };
  };
}

export interface SlackCommand {
  command: string;
  text: string;
  team_id: string;
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
  | { kind: 'unknown'; reason: string };

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
          command, text: form.get('text') ?? '', team_id: form.get('team_id') ?? '', channel_id: form.get('channel_id') ?? '',
          user_id: form.get('user_id') ?? '', user_name: field('user_name'), response_url: field('response_url'), trigger_id: field('trigger_id'),
        },
      };
    }
    return { kind: 'unknown', reason: 'form body is neither interactivity nor a slash command' };
  }
  const body = parseJson(raw) as { type?: unknown; challenge?: unknown; event?: unknown } | undefined;
  if (!body || typeof body !== 'object') return { kind: 'unknown', reason: 'body is not JSON' };
  if (body.type === 'url_verification' && typeof body.challenge === 'string') return { kind: 'url_verification', challenge: body.challenge };
  if (body.type === 'event_callback' && body.event && typeof body.event === 'object' && typeof (body.event as { type?: unknown }).type === 'string')
    return { kind: 'event', envelope: body as SlackEventEnvelope };
  return { kind: 'unknown', reason: `unhandled Slack payload type "${String(body.type)}"` };
}

/** The workspace a payload belongs to, before anything is verified. */
export function teamOf(p: SlackPayload): string | undefined {
  switch (p.kind) {
    case 'event':
      return p.envelope.team_id ?? undefined;
    case 'interaction':
      return p.interaction.team?.id ?? p.interaction.user?.team_id ?? undefined;
    case 'command':
      return p.command.team_id || undefined;
    default:
      return undefined;
  }
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
