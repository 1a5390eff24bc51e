import type { AttachmentKind, ChannelInstallation, CheckpointStore, Connector, ConnectorCapabilities, InboundEvent, OutboundMessage, WebhookRequest } from '../core/types.js';
import { PermanentError } from '../core/errors.js';
import { decodeSlackPayload, type SlackEventEnvelope, type SlackFile, type SlackMessageEvent } from './payload.js';
import { verifySlackSignature } from './signature.js';
import { escapeMrkdwn, slackToPlain, splitMrkdwn } from './text.js';
import { slackConfig, triageChannelsOf, type SlackInstallConfig } from './config.js';
import { installationKeyOf } from './routing.js';
import { slackFileRef } from './files.js';
import { SlackClients, toConnectorError } from './client.js';
import { SharedSocketConnections, runSocketMode, type EnvelopeHandler, type SocketModeOptions } from './socket-mode.js';
import { untilAborted } from '../core/abort.js';

export const SLACK_MAX_TEXT = 40_000;

/** Message subtypes that are a person writing; every other subtype is housekeeping. */
const CONTENT_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'me_message']);

/** `slack:{installation}:{slackChannel}:{threadTs}`: one conversation per Slack thread. */
export function slackThreadKey(channelId: string, slackChannel: string, threadTs: string): string {
  return `slack:${channelId}:${slackChannel}:${threadTs}`;
}

export function parseSlackThreadKey(threadKey: string): { channelId: string; slackChannel: string; threadTs: string } | undefined {
  const m = /^slack:([^:]+):([A-Z0-9]+):(\d+\.\d+)$/.exec(threadKey);
  return m ? { channelId: m[1]!, slackChannel: m[2]!, threadTs: m[3]! } : undefined;
}

/** A message's id in its installation: Slack's ts is only unique within one Slack channel. */
export function slackMessageId(slackChannel: string, ts: string): string {
  return `${slackChannel}:${ts}`;
}

/**
 * Slack as a customer channel: messages in customer channels (listed in the installation, or Slack
 * Connect shared channels) become conversations, one per top-level message and its thread.
 */
export class SlackConnector implements Connector {
  readonly kind = 'slack' as const;
  readonly capabilities: ConnectorCapabilities = {
    threads: true,
    attachments: true,
    edits: false,
    format: 'mrkdwn',
    maxTextLength: SLACK_MAX_TEXT,
    idempotentSend: false,
  };

  private envelopes?: EnvelopeHandler;

  constructor(
    private readonly clients: SlackClients = new SlackClients(),
    private readonly now: () => Date = () => new Date(),
    private readonly options: Pick<SocketModeOptions, 'reconnectDelayMs' | 'onError' | 'log'> & {
      /** The app's signing secret (operator configuration): when set, it alone verifies every workspace's requests. */
      signingSecret?: string;
      /** The app's app-level token (operator configuration), for Socket Mode installations without one of their own. */
      appToken?: string;
    } = {},
  ) {}

  /** The app's secret, else (a hub without one) the installation's own. */
  private signingSecretOf(channel: ChannelInstallation | undefined): string | undefined {
    return this.options.signingSecret || channel?.secrets.signingSecret || undefined;
  }

  /** Where Socket Mode envelopes go (the Slack app's dispatcher: customer events, agent thread replies, buttons, commands). */
  handleEnvelopesWith(handler: EnvelopeHandler): void {
    this.envelopes = handler;
  }

  /** Socket Mode connections of this process: one per app-level token, shared by the installations that use it. */
  private readonly sockets = new SharedSocketConnections(
    async (appToken, handle, signal) => {
      const { reconnectDelayMs, onError, log } = this.options;
      await runSocketMode({ clients: this.clients, appToken, handle, signal, reconnectDelayMs, onError, log });
    },
    (req) => decodeSlackPayload(req.headers, req.rawBody),
    () => this.envelopes,
  );

  /** Socket Mode connections this process holds open (one per app-level token in use). */
  get socketConnections(): number {
    return this.sockets.size;
  }

  /**
   * Socket Mode for an installation with `config.socketMode: true` and an app-level token
   * (`secrets.appToken`, xapp-…); other installations are reached through the Request URL, so
   * their listener only waits. Installations of one app share its token and so one connection;
   * each envelope is routed by its authorizations (routing.ts), since Slack hands any workspace's
   * envelope to any open connection of the app.
   */
  async listen(channel: ChannelInstallation, emit: (events: InboundEvent[]) => Promise<void>, _checkpoint: CheckpointStore, signal: AbortSignal): Promise<void> {
    const appToken = channel.secrets.appToken || this.options.appToken;
    if (!appToken || slackConfig(channel).socketMode !== true) return untilAborted(signal);
    // Without the app's dispatcher only customer messages can be taken (the pure path).
    const handle: EnvelopeHandler = async (req) => {
      await emit(this.parse({ ...req, channel }));
      return undefined;
    };
    await this.sockets.join(appToken, channel.externalKey, handle, signal);
  }

  locate(req: WebhookRequest): string | undefined {
    return installationKeyOf(decodeSlackPayload(req.headers, req.rawBody));
  }

  handshake(req: WebhookRequest): { status: number; body: string; contentType?: string } | undefined {
    const p = decodeSlackPayload(req.headers, req.rawBody);
    // Echoing a challenge reveals nothing, so it is answered before a workspace is known.
    if (p.kind === 'url_verification') return { status: 200, body: p.challenge, contentType: 'text/plain' };
    return undefined;
  }

  async verify(req: WebhookRequest): Promise<void> {
    verifySlackSignature({ signingSecret: this.signingSecretOf(req.channel), headers: req.headers, rawBody: req.rawBody, now: (req.now ?? this.now)() });
  }

  parse(req: WebhookRequest): InboundEvent[] {
    const channel = req.channel;
    if (!channel) return [{ type: 'ignored', reason: 'no Slack installation resolved for this request' }];
    const p = decodeSlackPayload(req.headers, req.rawBody);
    switch (p.kind) {
      case 'event':
        return this.parseEnvelope(channel, p.envelope);
      case 'interaction':
        return [{ type: 'ignored', reason: `interactivity (${p.interaction.type}) is handled by the agent surface` }];
      case 'command':
        return [{ type: 'ignored', reason: `slash command ${p.command.command} is handled by the agent surface` }];
      case 'url_verification':
        return [{ type: 'ignored', reason: 'url_verification is a handshake' }];
      case 'ssl_check':
        return [{ type: 'ignored', reason: 'ssl_check is a handshake' }];
      case 'app_rate_limited':
        return [{ type: 'ignored', reason: `app_rate_limited: Slack dropped the events of minute ${p.minute}; the hub backfills it` }];
      default:
        return [{ type: 'ignored', reason: p.reason }];
    }
  }

  /** One Events API envelope of this installation (also what a backfill rebuilds from conversations.history). */
  parseEnvelope(channel: ChannelInstallation, envelope: SlackEventEnvelope): InboundEvent[] {
    return [parseEvent(channel, envelope)];
  }

  async send(msg: OutboundMessage): Promise<{ externalId: string; sentAt: string }> {
    const token = msg.channel.secrets.botToken;
    if (!token) throw new PermanentError('slack', 'the Slack installation has no bot token', 'slack_token_missing');
    const thread = parseSlackThreadKey(msg.conversation.threadKey);
    if (!thread || thread.channelId !== msg.channel.id) throw new PermanentError('slack', `thread key ${msg.conversation.threadKey} is not a Slack thread of this installation`, 'slack_thread_invalid');
    const client = this.clients.for(token);
    // Slack's limit counts the text as sent, escaped: a longer reply goes out as several messages in order.
    const parts = splitMrkdwn(escapeMrkdwn(msg.text), this.capabilities.maxTextLength);
    let posted = 0;
    try {
      let res: { ts?: string } | undefined;
      for (const text of parts) {
        const r = await client.chat.postMessage({
          channel: thread.slackChannel,
          thread_ts: thread.threadTs,
          text,
          // The agent's name, not the app's: needs chat:write.customize.
          ...(msg.author.displayName ? { username: msg.author.displayName.slice(0, 80) } : {}),
          unfurl_links: false,
          unfurl_media: false,
        });
        res ??= r;
        posted++;
      }
      for (const a of msg.attachments) {
        await client.filesUploadV2({ channel_id: thread.slackChannel, thread_ts: thread.threadTs, file: a.content, filename: a.name, title: a.name });
      }
      const ts = String(res!.ts);
      return { externalId: slackMessageId(thread.slackChannel, ts), sentAt: tsToIso(ts) };
    } catch (err) {
      const e = toConnectorError(err);
      // A retry would post the parts already out a second time: the agent decides instead.
      if (posted > 0 && posted < parts.length) throw new PermanentError('slack', `${posted} of ${parts.length} parts of the reply were posted, then: ${e.message}`, 'slack_reply_partly_sent');
      throw e;
    }
  }

  async check(channel: ChannelInstallation): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
    if (!channel.secrets.botToken) return { ok: false, code: 'slack_token_missing', message: 'the installation has no bot token' };
    // Socket Mode needs the app-level token instead: no request is ever signed for it.
    if (slackConfig(channel).socketMode === true) {
      if (!channel.secrets.appToken && !this.options.appToken) return { ok: false, code: 'slack_app_token_missing', message: 'Socket Mode needs an app-level token (xapp-…): SLACK_APP_TOKEN, or secrets.appToken' };
    } else if (!this.signingSecretOf(channel)) return { ok: false, code: 'slack_signing_secret_missing', message: 'no signing secret: set SLACK_SIGNING_SECRET (the app\'s, from Basic Information)' };
    try {
      await this.clients.for(channel.secrets.botToken).auth.test();
      return { ok: true };
    } catch (err) {
      const e = toConnectorError(err);
      return { ok: false, code: e.code, message: e.message };
    }
  }
}

/** Slack's ts as an ISO time with its microseconds: messages of one second keep their order in the store. */
export function tsToIso(ts: string): string {
  const m = /^(\d+)\.(\d{1,6})$/.exec(ts);
  if (!m) {
    const seconds = Number(ts);
    return new Date(Number.isFinite(seconds) ? Math.floor(seconds * 1000) : 0).toISOString();
  }
  return `${new Date(Number(m[1]) * 1000).toISOString().slice(0, 19)}.${m[2]!.padEnd(6, '0')}Z`;
}

/** Whether messages of this Slack channel are customers writing to us. */
export function isCustomerChannel(channel: ChannelInstallation, slackChannel: string, envelope?: Pick<SlackEventEnvelope, 'is_ext_shared_channel'>): boolean {
  const config = slackConfig(channel);
  if (triageChannelsOf(config).has(slackChannel)) return false;
  if (config.customerChannels?.includes(slackChannel)) return true;
  return envelope?.is_ext_shared_channel === true && config.sharedChannelsAreCustomers !== false;
}

function parseEvent(channel: ChannelInstallation, envelope: SlackEventEnvelope): InboundEvent {
  const ev = envelope.event;
  if (ev.type !== 'message') return { type: 'ignored', reason: `event ${ev.type} is not a customer message` };
  const m = ev as unknown as SlackMessageEvent;
  if (typeof m.channel !== 'string') return { type: 'ignored', reason: 'message event without a channel' };
  const config = slackConfig(channel);
  if (triageChannelsOf(config).has(m.channel)) return { type: 'ignored', reason: 'triage channel: handled by the agent surface' };
  if (!isCustomerChannel(channel, m.channel, envelope)) return { type: 'ignored', reason: `channel ${m.channel} is not a customer channel` };
  if (m.subtype === 'message_changed') return parseChange(channel, m);
  if (m.subtype === 'message_deleted') return parseDeletion(channel, m, m.deleted_ts);
  if (typeof m.ts !== 'string') return { type: 'ignored', reason: 'message event without ts' };
  const ours = isOurOwn(config, m);
  const bot = ours || m.subtype === 'bot_message' || !!m.bot_id;
  // Another app's or a workflow's post (bot_message) is content: a form a customer filled in, an alert.
  if (!ours && m.subtype !== 'bot_message' && !CONTENT_SUBTYPES.has(m.subtype)) return { type: 'ignored', reason: `message subtype ${m.subtype} is not content` };
  const staff = !bot && isStaff(channel, m, envelope);
  const sender = bot ? m.bot_id ?? m.user ?? 'bot' : m.user;
  if (!sender) return { type: 'ignored', reason: 'message without a user' };
  const threadTs = m.thread_ts ?? m.ts;
  const name = m.user_profile?.display_name || m.user_profile?.real_name || m.username || m.bot_profile?.name;
  return {
    type: 'message',
    message: {
      channel: { kind: 'slack', channelId: channel.id },
      externalId: slackMessageId(m.channel, m.ts),
      threadKey: slackThreadKey(channel.id, m.channel, threadTs),
      ...(m.thread_ts && m.thread_ts !== m.ts ? { inReplyToExternalId: slackMessageId(m.channel, m.thread_ts) } : {}),
      // Our own posts come back as events (echoes); our staff in a shared channel are our side too. Never a customer writing.
      direction: ours || staff ? 'outbound' : 'inbound',
      sender: { externalId: sender, ...(name ? { displayName: name } : {}), isBot: bot, ...(staff ? { staff: true } : {}) },
      sentAt: tsToIso(m.ts),
      text: slackToPlain(m.text ?? ''),
      attachments: (m.files ?? []).map(toAttachment),
      raw: envelope,
    },
  };
}

/**
 * Our own app's posts. Slack marks every app's and workflow's message with a bot_id, so only ours
 * (our bot user, bot id or app id) is an echo; other apps in a customer channel are inbound. An
 * installation that does not know its own identity cannot tell: every bot counts as ours (the loop guard errs on that side).
 */
function isOurOwn(config: SlackInstallConfig, m: Pick<SlackMessageEvent, 'user' | 'bot_id' | 'app_id' | 'bot_profile' | 'subtype'>): boolean {
  if (config.botUserId && m.user === config.botUserId) return true;
  if (config.botId && m.bot_id === config.botId) return true;
  if (config.appId && (m.app_id === config.appId || m.bot_profile?.app_id === config.appId)) return true;
  return !config.botUserId && !config.botId && !config.appId && (m.subtype === 'bot_message' || !!m.bot_id);
}

/**
 * One of our own people writing in a Slack Connect channel: the author's workspace is the installed
 * one. Only in shared channels: in a listed channel of our own workspace (an internal help desk)
 * colleagues are the customers.
 */
function isStaff(channel: ChannelInstallation, m: SlackMessageEvent, envelope: Pick<SlackEventEnvelope, 'is_ext_shared_channel'>): boolean {
  if (envelope.is_ext_shared_channel !== true) return false;
  const authorTeam = m.user_team ?? m.user_profile?.team ?? m.team;
  return !!authorTeam && authorTeam === channel.externalKey;
}

/** message_changed: a person's edit replaces the stored text; a deleted thread root comes as a tombstone. */
function parseChange(channel: ChannelInstallation, m: SlackMessageEvent): InboundEvent {
  const now = m.message;
  if (!now || typeof now.ts !== 'string') return { type: 'ignored', reason: 'message_changed without the message' };
  if (now.subtype === 'tombstone') return parseDeletion(channel, m, now.ts);
  if (isOurOwn(slackConfig(channel), now)) return { type: 'ignored', reason: 'message_changed: our own post (chat.update)' };
  // Unfurls, thread replies and reactions change a message too; only an edit carries `edited`.
  if (!now.edited) return { type: 'ignored', reason: 'message_changed without an edit (unfurl or thread metadata)' };
  return {
    type: 'edited',
    channelId: channel.id,
    externalId: slackMessageId(m.channel, now.ts),
    text: slackToPlain(now.text ?? ''),
    editedAt: tsToIso(now.edited.ts ?? m.ts),
    threadKey: slackThreadKey(channel.id, m.channel, now.thread_ts ?? now.ts),
  };
}

function parseDeletion(channel: ChannelInstallation, m: SlackMessageEvent, deletedTs: string | undefined): InboundEvent {
  if (typeof deletedTs !== 'string') return { type: 'ignored', reason: 'message_deleted without deleted_ts' };
  const was = m.previous_message ?? m.message;
  if (was && isOurOwn(slackConfig(channel), was)) return { type: 'ignored', reason: 'message_deleted: our own post' };
  return {
    type: 'deleted',
    channelId: channel.id,
    externalId: slackMessageId(m.channel, deletedTs),
    deletedAt: tsToIso(m.event_ts ?? m.ts),
    threadKey: slackThreadKey(channel.id, m.channel, was?.thread_ts ?? deletedTs),
  };
}

function toAttachment(f: SlackFile): { kind: AttachmentKind; name?: string; mimeType?: string; size?: number; ref: string } {
  const mime = f.mimetype ?? '';
  const kind: AttachmentKind = mime.startsWith('image/') ? 'image' : mime.startsWith('audio/') ? 'audio' : mime.startsWith('video/') ? 'video' : 'file';
  return {
    kind,
    ...(f.name ?? f.title ? { name: f.name ?? f.title } : {}),
    ...(f.mimetype ? { mimeType: f.mimetype } : {}),
    ...(typeof f.size === 'number' ? { size: f.size } : {}),
    // A Slack Connect stub (file_access: check_file_info) has no URL: the hub asks files.info for it.
    ref: f.url_private_download ?? f.url_private ?? slackFileRef(f.id),
  };
}
