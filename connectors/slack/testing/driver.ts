import type { WebhookRequest } from '../../core/types.js';
import { createHmac } from 'node:crypto';

/** Slack's side of the v0 signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}` with the signing secret. */
export function signSlackRequest(signingSecret: string, timestamp: number | string, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', signingSecret);
  mac.update(`v0:${timestamp}:`);
  mac.update(rawBody);
  return `v0=${mac.digest('hex')}`;
}

/**
 * Test support: builds requests exactly as Slack delivers them to the Request URL: JSON for the
 * Events API, `application/x-www-form-urlencoded` for interactivity (`payload=`) and slash commands,
 * v0-signed over the raw bytes with the timestamp of an injected clock.
 */
export class SlackDriver {
  constructor(
    private readonly signingSecret: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  headers(rawBody: Buffer, contentType: string, opts: { timestamp?: number; secret?: string; retryNum?: number } = {}): Record<string, string> {
    const ts = opts.timestamp ?? Math.floor(this.now().getTime() / 1000);
    return {
      'content-type': contentType,
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signSlackRequest(opts.secret ?? this.signingSecret, ts, rawBody),
      ...(opts.retryNum ? { 'x-slack-retry-num': String(opts.retryNum), 'x-slack-retry-reason': 'http_timeout' } : {}),
    };
  }

  event(envelope: Record<string, unknown>, opts: { timestamp?: number; secret?: string; retryNum?: number } = {}): { body: Buffer; headers: Record<string, string> } {
    const body = Buffer.from(JSON.stringify(envelope));
    return { body, headers: this.headers(body, 'application/json', opts) };
  }

  interaction(payload: Record<string, unknown>, opts: { timestamp?: number; secret?: string } = {}): { body: Buffer; headers: Record<string, string> } {
    const body = Buffer.from(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    return { body, headers: this.headers(body, 'application/x-www-form-urlencoded', opts) };
  }

  command(fields: Record<string, string>, opts: { timestamp?: number; secret?: string } = {}): { body: Buffer; headers: Record<string, string> } {
    const body = Buffer.from(new URLSearchParams(fields).toString());
    return { body, headers: this.headers(body, 'application/x-www-form-urlencoded', opts) };
  }

  /**
   * Slack checking a slash command URL's certificate: `ssl_check=1` and a token, form-encoded and
   * unsigned (Bolt answers it before verifying).
   */
  sslCheck(): { body: Buffer; headers: Record<string, string> } {
    return { body: Buffer.from('ssl_check=1&token=legacy-verification-token-unused'), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }

  /** The same as a connector-level WebhookRequest (for pure verify/parse tests). */
  request(signed: { body: Buffer; headers: Record<string, string> }, now?: () => Date): WebhookRequest {
    return { method: 'POST', path: '/webhooks/slack', headers: signed.headers, query: {}, rawBody: signed.body, now: now ?? this.now };
  }
}

/** An Events API envelope around one event, as Slack wraps it. */
export function envelope(teamId: string, event: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = typeof event.event_ts === 'string' ? event.event_ts : typeof event.ts === 'string' ? event.ts : '1700000000.000100';
  return {
    token: 'legacy-verification-token-unused',
    team_id: teamId,
    api_app_id: 'AHUMMDESK1',
    event: { event_ts: ts, ...event },
    type: 'event_callback',
    event_id: `Ev${ts.replace('.', '')}`,
    event_time: Math.floor(Number(ts)),
    authorizations: [{ team_id: teamId, user_id: 'UBOT', is_bot: true }],
    ...extra,
  };
}

/**
 * Slack Connect: an event in a channel shared with another organisation. The envelope's `team_id` is
 * the workspace the event happened in (the customer's, when they created the channel); only
 * `authorizations` names our installation (enterprise id null outside Enterprise Grid).
 */
export function sharedEnvelope(p: { eventTeam: string; installedTeam: string; botUserId?: string; enterpriseId?: string | null; isEnterpriseInstall?: boolean; event: Record<string, unknown> }): Record<string, unknown> {
  return envelope(p.eventTeam, p.event, {
    context_team_id: p.eventTeam,
    context_enterprise_id: null,
    is_ext_shared_channel: true,
    event_context: `4-${Buffer.from(JSON.stringify({ et: 'message', tid: p.eventTeam })).toString('base64url')}`,
    authorizations: [{ enterprise_id: p.enterpriseId ?? null, team_id: p.installedTeam, user_id: p.botUserId ?? 'UBOT', is_bot: true, is_enterprise_install: p.isEnterpriseInstall ?? false }],
  });
}

/**
 * A person's message as the Events API shows it in a shared channel: the author's workspace in
 * `team`, `user_team`, `source_team` and `user_profile.team` (for our own staff, the installed team).
 */
export function personMessage(p: { channel: string; user: string; userTeam: string; text: string; ts: string; threadTs?: string; name?: string; files?: Record<string, unknown>[] }): Record<string, unknown> {
  return {
    type: 'message',
    ...(p.files?.length ? { subtype: 'file_share', files: p.files, upload: false, display_as_bot: false } : {}),
    client_msg_id: `${p.ts.replace('.', '')}-0000-4000-8000-000000000000`,
    text: p.text,
    user: p.user,
    ts: p.ts,
    ...(p.threadTs ? { thread_ts: p.threadTs, parent_user_id: 'UPARENT' } : {}),
    team: p.userTeam,
    user_team: p.userTeam,
    source_team: p.userTeam,
    user_profile: { real_name: p.name ?? p.user, display_name: p.name ?? p.user, name: (p.name ?? p.user).toLowerCase(), team: p.userTeam, is_restricted: false, is_ultra_restricted: false },
    blocks: [{ type: 'rich_text', block_id: 'b1', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: p.text }] }] }],
    channel: p.channel,
    channel_type: 'channel',
    event_ts: p.ts,
  };
}

/**
 * Another app's post in a channel: `bot_message` (legacy integrations, incoming webhooks) or, from a
 * Workflow Builder workflow or a modern app, a plain message with a bot user, bot_id and bot_profile.
 */
export function appMessage(p: { channel: string; botId: string; appId: string; text: string; ts: string; name: string; botUserId?: string; threadTs?: string }): Record<string, unknown> {
  const profile = { id: p.botId, app_id: p.appId, name: p.name, deleted: false, team_id: 'TAPPOWNER', icons: { image_36: 'https://example.invalid/36.png' } };
  const base = { text: p.text, ts: p.ts, bot_id: p.botId, app_id: p.appId, bot_profile: profile, channel: p.channel, channel_type: 'channel', event_ts: p.ts, ...(p.threadTs ? { thread_ts: p.threadTs } : {}) };
  return p.botUserId ? { type: 'message', user: p.botUserId, ...base } : { type: 'message', subtype: 'bot_message', username: p.name, ...base };
}

/** message_changed as Slack sends an edit: hidden, the message as it is now (with `edited`) and as it was. */
export function messageChanged(p: { channel: string; ts: string; user: string; userTeam: string; text: string; previousText: string; editedTs: string; threadTs?: string }): Record<string, unknown> {
  const common = { type: 'message', user: p.user, team: p.userTeam, user_team: p.userTeam, source_team: p.userTeam, ts: p.ts, ...(p.threadTs ? { thread_ts: p.threadTs } : {}) };
  return {
    type: 'message',
    subtype: 'message_changed',
    hidden: true,
    message: { ...common, text: p.text, edited: { user: p.user, ts: p.editedTs }, client_msg_id: `${p.ts.replace('.', '')}-0000-4000-8000-000000000000` },
    previous_message: { ...common, text: p.previousText },
    channel: p.channel,
    channel_type: 'channel',
    ts: p.editedTs,
    event_ts: p.editedTs,
  };
}

/** message_deleted: hidden, `deleted_ts` names the message that went, `previous_message` what it was. */
export function messageDeleted(p: { channel: string; deletedTs: string; eventTs: string; user: string; userTeam: string; previousText: string; threadTs?: string }): Record<string, unknown> {
  return {
    type: 'message',
    subtype: 'message_deleted',
    hidden: true,
    deleted_ts: p.deletedTs,
    channel: p.channel,
    channel_type: 'channel',
    previous_message: { type: 'message', user: p.user, team: p.userTeam, user_team: p.userTeam, text: p.previousText, ts: p.deletedTs, ...(p.threadTs ? { thread_ts: p.threadTs } : {}) },
    ts: p.eventTs,
    event_ts: p.eventTs,
  };
}

/** Slack dropped an app's events of one minute (over 30,000 an hour): a top-level body, not an event_callback. */
export function appRateLimited(teamId: string, minute: number, apiAppId = 'AHUMMDESK1'): Record<string, unknown> {
  return { token: 'legacy-verification-token-unused', type: 'app_rate_limited', team_id: teamId, minute_rate_limited: minute, api_app_id: apiAppId };
}

/** The app was uninstalled from a workspace. */
export function appUninstalled(teamId: string, ts = '1700000000.000100'): Record<string, unknown> {
  return envelope(teamId, { type: 'app_uninstalled', event_ts: ts });
}

/** Tokens of the app were revoked: user tokens under `oauth`, bot tokens under `bot` (both by user id). */
export function tokensRevoked(teamId: string, tokens: { oauth?: string[]; bot?: string[] }, ts = '1700000000.000100'): Record<string, unknown> {
  return envelope(teamId, { type: 'tokens_revoked', tokens, event_ts: ts });
}

/** A file another organisation shared, as its message event carries it in a Slack Connect channel: a stub for files.info. */
export function fileStub(id: string): Record<string, unknown> {
  return { id, mode: 'file_access', file_access: 'check_file_info', created: 0, timestamp: 0, user: '' };
}
