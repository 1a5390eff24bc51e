import type { WebClient } from '@slack/web-api';
import type { ChannelInstallation, NormalizedMessage } from '../../connectors/core/types.js';
import type { EventBus } from '../realtime/events.js';
import { insertAttachments, insertMessage } from '../../storage/repositories/messages.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import type { ConversationService } from '../services/conversations.js';
import { HubError } from '../errors.js';
import type { Database, Queryable } from '../../storage/database.js';
import { withAccount } from '../../storage/session.js';
import { getConversation, listConversations } from '../../storage/repositories/conversations.js';
import { getDraft } from '../../storage/repositories/ai.js';
import { linkByEmail, linkedUser, toAgent, type Agent } from '../surfaces/agents.js';
import { dispatchCardAction, type ActionOutcome } from '../surfaces/actions.js';
import { offeredInstead } from '../surfaces/refusal.js';
import { SlackClients } from '../../connectors/slack/client.js';
import { slackConfig } from '../../connectors/slack/config.js';
import { ACTIONS, COMPOSE_CALLBACK, composeModal, homeView } from './blocks.js';
import type { SlackCommand, SlackInteraction, SlackMessageEvent } from '../../connectors/slack/payload.js';
import { claimAgentPost, settleAgentPost, threadByKey } from './store.js';
import { escapeMrkdwn, escapeName, slackToPlain, truncateMrkdwn } from '../../connectors/slack/text.js';
import { downloadSlackFile, slackFileInfo } from '../../connectors/slack/files.js';
import { SlackMentionNames } from './mentions.js';

export interface SlackDeskDeps {
  db: Database;
  clients: SlackClients;
  conversations: ConversationService;
  conversationUrl: (conversationId: string) => string;
  now: () => Date;
  bus?: EventBus;
  /** New outbox rows were committed (the job runner's kick). */
  onOutbox?: () => void;
}

export type { Agent };

export const LINK_HELP =
  'Your Slack account is not linked to a HummDesk agent, so nothing was sent. Use the same (confirmed) email address in Slack and HummDesk, or ask a HummDesk admin to link your Slack user.';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * What agents do from Slack: reply or note in a triage thread, press card buttons, submit the
 * compose modal, run /hummdesk, open App Home. Every action runs as the linked HummDesk agent.
 */
export class SlackDesk {
  private readonly mentions: SlackMentionNames;
  constructor(private readonly deps: SlackDeskDeps) {
    this.mentions = new SlackMentionNames(deps.clients, () => deps.now().getTime());
  }

  private client(install: ChannelInstallation): WebClient {
    return this.deps.clients.for(install.secrets.botToken);
  }

  /** The HummDesk agent behind a Slack user: linked already, or linked now by a confirmed email of this workspace. */
  async agentFor(install: ChannelInstallation, slackUserId: string): Promise<Agent | undefined> {
    const accountId = install.accountId;
    const known = await withAccount(this.deps.db, accountId, (tx) => linkedUser(tx, 'slack', slackUserId));
    if (known) return toAgent(accountId, known);
    const info = await this.client(install).users.info({ user: slackUserId }).catch(() => undefined);
    const user = info?.user;
    const email = user?.profile?.email;
    // A guest from another organisation (Slack Connect) or an unconfirmed address never links by email.
    if (!user || !email || user.deleted || user.is_bot || user.is_email_confirmed !== true || user.team_id !== install.externalKey) return undefined;
    const linked = await withAccount(this.deps.db, accountId, (tx) => linkByEmail(tx, { surface: 'slack', surfaceUserId: slackUserId, email }));
    return linked ? toAgent(accountId, linked) : undefined;
  }

  private async tellUnlinked(install: ChannelInstallation, channel: string, user: string, threadTs?: string, text = LINK_HELP): Promise<void> {
    await this.client(install).chat.postEphemeral({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) });
  }

  /** An agent's message in a conversation's triage thread: a note or a reply, per the installation's mode. */
  async threadReply(install: ChannelInstallation, ev: SlackMessageEvent): Promise<'ignored' | 'duplicate' | 'unlinked' | 'note' | 'reply' | 'file_failed' | 'refused'> {
    if (!ev.thread_ts || ev.thread_ts === ev.ts || !ev.user || ev.bot_id || (ev.subtype && ev.subtype !== 'file_share' && ev.subtype !== 'thread_broadcast')) return 'ignored';
    const { accountId } = install;
    const thread = await withAccount(this.deps.db, accountId, (tx) => threadByKey(tx, `${ev.channel}:${ev.thread_ts}`));
    if (!thread || thread.data.installationId !== install.id) return 'ignored';
    const agent = await this.agentFor(install, ev.user);
    if (!agent) {
      await this.tellUnlinked(install, ev.channel, ev.user, ev.thread_ts);
      return 'unlinked';
    }
    // Colleagues mentioned by name, not by Slack user id: the customer cannot look ids up.
    const text = slackToPlain(await this.mentions.label(install, ev.text ?? ''));
    const postKey = `${ev.channel}:${ev.ts}`;
    // Claimed before the reply, so a retried delivery of the same event (X-Slack-Retry-Num) sends nothing twice.
    const claimed = await withAccount(this.deps.db, accountId, (tx) =>
      claimAgentPost(tx, { accountId, installationId: install.id, postKey, conversationId: thread.conversationId, userId: agent.actor.id!, text }),
    );
    if (!claimed) return 'duplicate';
    const isNote = (slackConfig(install).threadReplies ?? 'notes') === 'notes';
    // The agent's files go along (Chatwoot lost them): all of them or, when one cannot be fetched, nothing at all.
    let attachments: { name: string; mimeType: string; content: Buffer }[];
    try {
      attachments = await Promise.all(
        (ev.files ?? []).map(async (f) => {
          // A file shared from another organisation is a stub: files.info has its URL, name and type.
          const info = f.url_private_download ?? f.url_private ? undefined : await slackFileInfo(this.client(install), f.id);
          return {
            name: f.name ?? f.title ?? info?.name ?? 'file',
            mimeType: f.mimetype ?? info?.mimetype ?? 'application/octet-stream',
            content: await downloadSlackFile({ url: f.url_private_download ?? f.url_private ?? info!.url, token: install.secrets.botToken, apiUrl: this.deps.clients.apiUrl }),
          };
        }),
      );
    } catch (err) {
      await withAccount(this.deps.db, accountId, (tx) => settleAgentPost(tx, install.id, postKey, null));
      await this.client(install).chat.postEphemeral({
        channel: ev.channel, user: ev.user, thread_ts: ev.thread_ts,
        text: `:warning: Nothing was sent: HummDesk could not fetch your file (${escapeMrkdwn((err as Error).message)}). Try again, or reply from HummDesk.`,
      });
      return 'file_failed';
    }
    try {
      const message = await this.deps.conversations.reply(agent.actor, thread.conversationId, { text, isPrivate: isNote, ...(attachments.length ? { attachments } : {}) });
      await withAccount(this.deps.db, accountId, (tx) => settleAgentPost(tx, install.id, postKey, message.id));
    } catch (err) {
      await withAccount(this.deps.db, accountId, (tx) => settleAgentPost(tx, install.id, postKey, null));
      if (!(err instanceof HubError) || err.statusCode >= 500) throw err;
      // Refused (window closed, text too long, …): the agent is told why in the thread, and Slack gets its 200 (no retry).
      await this.client(install).chat.postEphemeral({ channel: ev.channel, user: ev.user, thread_ts: ev.thread_ts, text: refusalText(err, this.deps.conversationUrl(thread.conversationId)) });
      return 'refused';
    }
    if (isNote)
      await this.client(install).chat.postEphemeral({
        channel: ev.channel, user: ev.user, thread_ts: ev.thread_ts,
        text: ':lock: Saved as an internal note: the customer does not see it. Use *Reply to customer* on the card to answer them.',
      });
    return isNote ? 'note' : 'reply';
  }

  /**
   * Our own staff writing in a Slack Connect customer channel: never a customer, never answered by
   * the AI. Recorded as our side of the conversation (outbound, already sent, by the linked agent) or,
   * with `staffMessages: "notes"`, as an internal note. A message that starts no known conversation
   * (staff opening a thread themselves) is not a support conversation and is left alone.
   */
  async staffMessage(install: ChannelInstallation, m: NormalizedMessage): Promise<'ignored' | 'duplicate' | 'note' | 'outbound'> {
    const { accountId } = install;
    const isNote = (slackConfig(install).staffMessages ?? 'outbound') === 'notes';
    const conversationId = await withAccount(this.deps.db, accountId, async (tx) =>
      (await tx.query<{ id: string }>(`SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2`, [install.id, m.threadKey])).rows[0]?.id,
    );
    if (!conversationId) return 'ignored';
    // Linked (or linked now by a confirmed email of this workspace): the message is that agent's.
    const agent = await this.agentFor(install, m.sender.externalId).catch(() => undefined);
    const messageId = await withAccount(this.deps.db, accountId, async (tx) => {
      const inserted = await insertMessage(tx, {
        accountId, conversationId, channelId: install.id, direction: 'outbound', authorKind: 'agent', authorUserId: agent?.actor.id ?? null,
        isPrivate: isNote, text: m.text, externalId: m.externalId, inReplyTo: m.inReplyToExternalId ?? null, deliveryStatus: isNote ? null : 'sent', sentAt: m.sentAt,
        metadata: { staff: { externalId: m.sender.externalId, name: m.sender.displayName ?? null } },
      });
      if (!inserted) return undefined;
      if (m.attachments.length) await insertAttachments(tx, accountId, inserted.id, m.attachments);
      // Our side answered: like a reply, an open conversation now waits on the customer.
      if (!isNote) await tx.query(`UPDATE conversations SET last_message_at = greatest(last_message_at, $2::timestamptz), updated_at = now(), status = CASE WHEN status = 'open' THEN 'pending' ELSE status END WHERE id = $1`, [conversationId, m.sentAt]);
      await enqueue(tx, accountId, 'surface.sync', { conversationId, messageId: inserted.id });
      return inserted.id;
    });
    if (!messageId) return 'duplicate';
    this.deps.bus?.publish(accountId, { type: 'message.created', conversationId, messageId, direction: 'outbound', isPrivate: isNote });
    this.deps.onOutbox?.();
    return isNote ? 'note' : 'outbound';
  }

  /** Buttons and modal submissions; the return value is the HTTP answer body Slack expects, if any. */
  async interaction(install: ChannelInstallation, p: SlackInteraction): Promise<Record<string, unknown> | undefined> {
    if (p.type === 'block_actions') return this.blockAction(install, p);
    if (p.type === 'view_submission' && p.view?.callback_id === COMPOSE_CALLBACK) return this.compose(install, p);
    return undefined;
  }

  private async blockAction(install: ChannelInstallation, p: SlackInteraction): Promise<undefined> {
    const action = p.actions?.[0];
    const channel = p.container?.channel_id ?? p.channel?.id;
    const cardTs = p.container?.message_ts;
    if (!action || !channel || !cardTs || !Object.values(ACTIONS).includes(action.action_id as never)) return undefined;
    const value = parseJson(action.value) as { c?: string; d?: string } | undefined;
    const conversationId = value?.c ?? (action.block_id?.startsWith('hd:') ? action.block_id.slice(3) : undefined);
    if (!conversationId || !UUID.test(conversationId)) return undefined;
    // The button must sit on this conversation's own card: a forged value cannot reach another conversation.
    const thread = await withAccount(this.deps.db, install.accountId, (tx) => threadByKey(tx, `${channel}:${cardTs}`));
    if (!thread || thread.conversationId !== conversationId || thread.data.installationId !== install.id) return undefined;
    const agent = await this.agentFor(install, p.user.id);
    if (!agent) {
      await this.tellUnlinked(install, channel, p.user.id, cardTs);
      return undefined;
    }
    let outcome: ActionOutcome | undefined;
    try {
      switch (action.action_id) {
        case ACTIONS.sendDraft:
          outcome = await dispatchCardAction(this.deps, agent, conversationId, { action: 'sendDraft', draftId: value?.d ?? '' });
          break;
        case ACTIONS.editDraft:
        case ACTIONS.reply:
        case ACTIONS.note: {
          const found = await withAccount(this.deps.db, install.accountId, async (tx) => {
            const c = await getConversation(tx, conversationId);
            const d = action.action_id === ACTIONS.editDraft && value?.d && UUID.test(value.d) ? await getDraft(tx, value.d) : undefined;
            return { c, d };
          });
          if (!found.c) throw new HubError(404, 'conversation_not_found', 'That conversation no longer exists.');
          if (!p.trigger_id) return undefined;
          const view = composeModal({
            conversationId, mode: action.action_id === ACTIONS.note ? 'note' : 'reply', customer: found.c.contactName ?? 'the customer',
            channel, threadTs: cardTs, ...(found.d && found.d.status === 'proposed' ? { draftId: found.d.id, initial: found.d.text } : {}),
          });
          await this.client(install).views.open({ trigger_id: p.trigger_id, view: view as never });
          break;
        }
        case ACTIONS.assignMe:
          outcome = await dispatchCardAction(this.deps, agent, conversationId, { action: 'assignMe' });
          break;
        case ACTIONS.resolve:
          outcome = await dispatchCardAction(this.deps, agent, conversationId, { action: 'resolve' });
          break;
        case ACTIONS.reopen:
          outcome = await dispatchCardAction(this.deps, agent, conversationId, { action: 'reopen' });
          break;
        case ACTIONS.snooze:
          outcome = await dispatchCardAction(this.deps, agent, conversationId, { action: 'snooze', hours: Number(action.selected_option?.value) });
          break;
      }
    } catch (err) {
      if (!(err instanceof HubError)) throw err;
      outcome = { ok: false, action: 'reply', code: err.code, reason: err.message };
    }
    if (outcome && !outcome.ok && outcome.code !== 'invalid_action') {
      await this.tellUnlinked(install, channel, p.user.id, cardTs, `:warning: ${outcome.code === 'draft_already_decided' ? 'That draft was already sent or replaced.' : escapeMrkdwn(outcome.reason)}`);
    }
    return undefined;
  }

  private async compose(install: ChannelInstallation, p: SlackInteraction): Promise<Record<string, unknown> | undefined> {
    const meta = parseJson(p.view?.private_metadata) as { c?: string; d?: string; m?: 'reply' | 'note' } | undefined;
    if (!meta?.c || !UUID.test(meta.c)) return undefined;
    const text = p.view?.state?.values.compose?.text?.value?.trim() ?? '';
    if (!text) return { response_action: 'errors', errors: { compose: 'Write something first.' } };
    const agent = await this.agentFor(install, p.user.id);
    if (!agent) return { response_action: 'errors', errors: { compose: LINK_HELP } };
    const outcome = await dispatchCardAction(this.deps, agent, meta.c,
      meta.m === 'note' ? { action: 'note', text } : meta.d && UUID.test(meta.d) ? { action: 'editDraft', draftId: meta.d, text } : { action: 'reply', text });
    if (!outcome.ok) return { response_action: 'errors', errors: { compose: outcome.code === 'draft_already_decided' ? 'This draft was already sent or replaced; cancel and use Reply instead.' : outcome.reason } };
    return undefined;
  }

  /** `/hummdesk assign|resolve|status|search|help`; the answer is ephemeral to the caller. */
  async command(install: ChannelInstallation, cmd: SlackCommand): Promise<{ response_type: 'ephemeral'; text: string; blocks: Record<string, unknown>[] }> {
    // Shown from a verbatim section: a bare URL in a subject or name stays text, as on the card.
    const answer = (text: string) => ({ response_type: 'ephemeral' as const, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(text, 3000).text, verbatim: true } }] });
    const [sub = 'help', ...rest] = cmd.text.trim().split(/\s+/).filter(Boolean);
    const usage = 'Usage: `/hummdesk status <ref>`, `/hummdesk assign <ref> [me|@user]`, `/hummdesk resolve <ref>`, `/hummdesk search <words>`. A ref is the `#1a2b3c4d` on a card.';
    if (sub === 'help' || !['assign', 'resolve', 'status', 'search'].includes(sub)) return answer(usage);
    const agent = await this.agentFor(install, cmd.user_id);
    if (!agent) return answer(LINK_HELP);
    const { accountId } = install;
    const url = this.deps.conversationUrl;
    try {
      if (sub === 'search') {
        const q = rest.join(' ').slice(0, 200);
        if (!q) return answer(usage);
        const found = await withAccount(this.deps.db, accountId, (tx) => listConversations(tx, { q, limit: 10 }));
        if (!found.length) return answer(`Nothing matches “${escapeMrkdwn(q)}”.`);
        return answer(found.map((c) => `• <${url(c.id)}|#${c.id.slice(0, 8)}> ${escapeName(c.subject ?? c.contactName ?? 'conversation')} (${c.status})`).join('\n'));
      }
      const conversationId = await withAccount(this.deps.db, accountId, (tx) => byRef(tx, rest[0]));
      if (!conversationId) return answer(`No single conversation matches “${escapeMrkdwn(rest[0] ?? '')}”. ${usage}`);
      if (sub === 'status') {
        const c = (await withAccount(this.deps.db, accountId, (tx) => getConversation(tx, conversationId)))!;
        return answer(`<${url(c.id)}|#${c.id.slice(0, 8)}> ${escapeName(c.subject ?? c.contactName ?? '')}: *${c.status}*, priority ${c.priority}${c.category ? `, ${escapeMrkdwn(c.category)}` : ''}`);
      }
      if (sub === 'resolve') {
        await this.deps.conversations.setStatus(agent.actor, conversationId, 'resolved');
        return answer(`Resolved #${conversationId.slice(0, 8)}.`);
      }
      const who = rest[1];
      let assignee = agent;
      const mention = who ? /^<@([A-Z0-9]+)(\|[^>]*)?>$/.exec(who) : null;
      if (mention) {
        const other = await this.agentFor(install, mention[1]!);
        if (!other) return answer('That Slack user is not linked to a HummDesk agent.');
        assignee = other;
      } else if (who && who !== 'me') return answer(usage);
      await this.deps.conversations.assign(agent.actor, conversationId, { assigneeId: assignee.actor.id });
      return answer(`Assigned #${conversationId.slice(0, 8)} to ${escapeName(assignee.name)}.`);
    } catch (err) {
      if (err instanceof HubError) return answer(`:warning: ${escapeMrkdwn(err.message)}`);
      throw err;
    }
  }

  /** App Home: the agent's open and pending conversations. */
  async homeOpened(install: ChannelInstallation, slackUserId: string): Promise<void> {
    const agent = await this.agentFor(install, slackUserId);
    const rows = agent
      ? await withAccount(this.deps.db, install.accountId, (tx) => listConversations(tx, { assigneeId: agent.actor.id!, limit: 60 }))
      : [];
    const open = rows.filter((c) => c.status === 'open' || c.status === 'pending');
    const view = homeView({
      linked: !!agent,
      conversations: open.map((c) => ({ id: c.id, ref: c.id.slice(0, 8), title: c.subject ?? 'Conversation', customer: c.contactName ?? 'Customer', status: c.status, url: this.deps.conversationUrl(c.id) })),
    });
    await this.client(install).views.publish({ user_id: slackUserId, view: view as never });
  }
}

/** A refused thread reply as the agent reads it: the reason, and what could be sent instead (WhatsApp's approved templates). */
export function refusalText(err: HubError, conversationUrl: string): string {
  const instead = offeredInstead(err, `<${conversationUrl}|HummDesk>`, (t) => `\`${escapeMrkdwn(t.name)}\` (${escapeMrkdwn(t.language)})`);
  return `:warning: Nothing was sent: ${escapeMrkdwn(err.message)}.${instead}`;
}

async function byRef(tx: Queryable, ref: string | undefined): Promise<string | undefined> {
  const r = ref?.replace(/^#/, '').toLowerCase();
  if (!r || !/^[0-9a-f-]{8,36}$/.test(r)) return undefined;
  const { rows } = await tx.query<{ id: string }>(`SELECT id FROM conversations WHERE id::text LIKE $1 LIMIT 2`, [`${r}%`]);
  return rows.length === 1 ? rows[0]!.id : undefined;
}

function parseJson(s: string | undefined): unknown {
  if (!s) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
