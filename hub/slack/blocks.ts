import { createHash } from 'node:crypto';
import type { MessageRow } from '../../storage/repositories/messages.js';
import { escapeMrkdwn, escapeName, escapeTruncated, link, oneLineName, truncate, truncateMrkdwn } from '../../connectors/slack/text.js';
import { cardTitle, offeredActions, SNOOZE_CHOICES, via, type CardAction, type CardModel } from '../surfaces/card.js';
import { replyWindowState, type ReplyWindow } from '../surfaces/channel-window.js';

/** Block Kit for the conversation card, its thread replies, the compose modal and the App Home tab. */

export type Block = Record<string, unknown>;
export interface SlackMessageBody {
  text: string;
  blocks: Block[];
}

export const LIMITS = { blocksPerMessage: 50, sectionText: 3000, headerText: 150, buttonValue: 2000, contextElements: 10, modalInput: 3000 } as const;

/** Slack action ids of the card's actions (hub/surfaces/card.ts names them surface-neutrally). */
export const ACTIONS = {
  sendDraft: 'hd_send_draft',
  editDraft: 'hd_edit_draft',
  reply: 'hd_reply',
  note: 'hd_note',
  assignMe: 'hd_assign_me',
  resolve: 'hd_resolve',
  reopen: 'hd_reopen',
  snooze: 'hd_snooze',
  open: 'hd_open',
} as const satisfies Record<CardAction | 'open', string>;
export const COMPOSE_CALLBACK = 'hd_compose';

export type { CardModel };
export { via };
const PRIORITY_ICON: Record<string, string> = { urgent: ':rotating_light:', high: ':red_circle:', normal: ':large_blue_circle:', low: ':white_circle:' };

/**
 * Our own mrkdwn (everything in it escaped or built by us): verbatim, so Slack links nothing we did not
 * link ourselves, and cut whole tokens only.
 */
const mrkdwn = (text: string, max: number = LIMITS.sectionText) => ({ type: 'mrkdwn', text: truncateMrkdwn(text, max).text, verbatim: true });
/** Customer- and agent-written text goes out as plain_text: no mention, link or formatting can come from it. */
const plain = (text: string, max: number = LIMITS.sectionText) => ({ type: 'plain_text', text: truncate(text.trim() ? text : ' ', max).text, emoji: false });
/** A name or subject someone else chose, as plain text on one line (see oneLineName). */
const name = (text: string) => plain(oneLineName(text));
/** A context line: strings are our mrkdwn, objects (names as plain_text) go in as they are. */
const context = (...elements: (string | Block)[]) => ({ type: 'context', elements: elements.slice(0, LIMITS.contextElements).map((e) => (typeof e === 'string' ? mrkdwn(e) : e)) });
const button = (text: string, actionId: string, value: Record<string, string>, style?: 'primary' | 'danger') => {
  const v = JSON.stringify(value);
  if (v.length > LIMITS.buttonValue) throw new Error('button value over Slack limit');
  return { type: 'button', text: { type: 'plain_text', text, emoji: true }, action_id: actionId, value: v, ...(style ? { style } : {}) };
};

/** A long text as plain sections, cut with a link to the full message in HummDesk. */
function longText(text: string, url: string, max = 2800): Block[] {
  const t = truncate(text.trim(), max);
  const blocks: Block[] = [{ type: 'section', text: plain(t.text) }];
  if (t.truncated) blocks.push(context(`Shortened here: ${link(url, 'read the whole message in HummDesk')}`));
  return blocks;
}

export function slackDate(iso: string): string {
  const d = new Date(iso);
  const hhmm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
  return `<!date^${Math.floor(d.getTime() / 1000)}^{time}|${hhmm}>`;
}

function classification(m: CardModel): string | undefined {
  const parts: string[] = [];
  if (m.category) parts.push(`*Category* ${escapeMrkdwn(m.category)}`);
  if (m.priority) parts.push(`*Priority* ${escapeMrkdwn(m.priority)}`);
  if (m.sentiment) parts.push(`*Sentiment* ${escapeMrkdwn(m.sentiment)}`);
  if (m.language) parts.push(`*Language* ${escapeMrkdwn(m.language)}`);
  if (m.confidence !== null && m.confidence !== undefined) parts.push(`*Confidence* ${Math.round(m.confidence * 100)}%`);
  return m.category || m.sentiment || m.language || m.confidence !== null ? `:robot_face: ${parts.join('  ·  ')}` : undefined;
}

/** WhatsApp's customer-service window, as the card's context line. */
export function windowLine(w: ReplyWindow, now = Date.now()): string {
  const state = replyWindowState(w, now);
  if (w.kind === 'whatsapp') {
    if (state === 'open') return `:hourglass_flowing_sand: Replies allowed until ${slackDate(w.closesAt!)} (WhatsApp's 24-hour window); after that only templates`;
    return ':no_entry: WhatsApp\'s 24-hour window is closed: only an approved template can be sent';
  }
  if (state === 'open') return `:hourglass_flowing_sand: Replies allowed until ${slackDate(w.responseClosesAt ?? w.closesAt!)} (Messenger's 24-hour window)${w.responseClosesAt ? `; after that by a person until ${slackDate(w.closesAt!)} (human agent tag)` : ''}`;
  if (state === 'human_agent') return `:bust_in_silhouette: Messenger's 24-hour window is closed: an agent can still answer until ${slackDate(w.closesAt!)} (human agent tag, 7 days)`;
  return ':no_entry: Messenger\'s reply window is closed: the customer has to write first';
}

/** The conversation's root message in the triage channel. */
export function rootCard(m: CardModel): SlackMessageBody {
  const title = cardTitle(m, oneLineName);
  const blocks: Block[] = [
    { type: 'header', text: plain(title, LIMITS.headerText) },
    // The customer and the names of their channel are theirs to choose: plain text, never our mrkdwn.
    { type: 'section', text: plain(`${oneLineName(m.customer)} ${via(m.source.kind)} (${oneLineName(m.source.name)})`) },
    ...longText(m.firstLines, m.url, 1200),
  ];
  const ai = classification(m);
  if (ai) blocks.push(context(ai));
  const status = m.status === 'snoozed' && m.snoozedUntil ? `snoozed until ${slackDate(m.snoozedUntil)}` : escapeMrkdwn(m.status);
  blocks.push(
    context(
      `${PRIORITY_ICON[m.priority] ?? ''} ${link(m.url, `#${m.ref}`)}  ·  *Status* ${status}  ·  *Assignee*`,
      m.assignee ? name(m.assignee) : '_unassigned_',
    ),
  );
  if (m.replyWindow) blocks.push(context(windowLine(m.replyWindow)));
  const value = { c: m.conversationId };
  const actions: Block[] = [];
  if (m.draft) {
    blocks.push({ type: 'divider' });
    blocks.push({ type: 'section', text: mrkdwn(`:memo: *Proposed reply*${m.draft.extractive ? ' _(quoted from the knowledge base, not generated)_' : ''}`) });
    blocks.push(...longText(m.draft.text, m.url));
    const cites = m.draft.citations.slice(0, LIMITS.contextElements).map((c, i) => {
      const label = `[${i + 1}] ${truncate(c.title ?? c.id ?? 'source', 80).text}`;
      return c.url && /^https?:\/\//.test(c.url) ? link(c.url, label) : escapeMrkdwn(label);
    });
    if (cites.length) blocks.push(context(`Sources: ${cites.join('  ')}`));
  }
  for (const a of offeredActions(m)) {
    if (a.action === 'snooze') {
      actions.push({
        type: 'static_select',
        action_id: ACTIONS.snooze,
        placeholder: { type: 'plain_text', text: a.label },
        options: SNOOZE_CHOICES.map(([t, v]) => ({ text: { type: 'plain_text', text: t }, value: String(v) })),
      });
    } else {
      const v = a.action === 'sendDraft' || a.action === 'editDraft' ? { ...value, d: m.draft!.id } : value;
      actions.push(button(a.label, ACTIONS[a.action], v, a.style));
    }
  }
  blocks.push({ type: 'actions', block_id: `hd:${m.conversationId}`, elements: actions });
  blocks.push(
    context(
      m.threadReplies === 'notes'
        ? ':lock: Replies in this thread are *internal notes*. Use *Reply to customer* to answer the customer.'
        : ':incoming_envelope: Replies in this thread *go to the customer*. Use *Add note* for an internal note.',
    ),
  );
  return { text: `${escapeTruncated(oneLineName(m.customer), 200).text}: ${escapeTruncated(title, 200).text}`, blocks: fit(blocks) };
}

/** The card once the conversation moved to another team's channel. */
export function movedCard(m: CardModel, toChannel: string): SlackMessageBody {
  return {
    text: `Moved to <#${toChannel}>`,
    blocks: [context(':arrow_right:', name(m.customer), `(${link(m.url, `#${m.ref}`)}) moved to <#${toChannel}>. Continue there.`)],
  };
}

/** A thread reply mirroring one message of the conversation, or undefined when nothing should show. */
export function messageReply(msg: MessageRow, kind: string, url: string, writtenInSlack: boolean): { body: SlackMessageBody; state: string } | undefined {
  // A customer message names its real sender (with the address, since anyone can choose a display name).
  // Names, addresses and file names are the sender's to choose: plain text on one line, never our mrkdwn.
  const rawAuthor = oneLineName(msg.authorName ?? '') || (msg.direction === 'inbound' ? 'Customer' : 'HummDesk');
  const sender = rawAuthor + (msg.direction === 'inbound' && msg.sender?.address && msg.sender.address !== msg.authorName ? ` (${oneLineName(msg.sender.address)})` : '');
  const unverified = msg.authentication === 'fail' ? ' :warning: _From not verified_' : '';
  const author = escapeMrkdwn(rawAuthor);
  const files = msg.attachments.length ? [context(':paperclip:', plain(msg.attachments.map((a) => oneLineName(a.name ?? '') || a.kind).join(', ')))] : [];
  if (msg.notice === 'participant_joined') {
    return { state: 'notice', body: { text: escapeName(msg.text), blocks: [context(':busts_in_silhouette:', name(msg.text), `· Not a participant, so replies are not copied to them or to whom they copied. ${link(url, 'Add them')} to copy them.`)] } };
  }
  if (msg.direction === 'inbound') {
    return { state: 'inbound', body: { text: `${escapeTruncated(sender, 300).text}: ${escapeTruncated(msg.text, 200).text}`, blocks: fit([context(':speech_balloon:', plain(sender), `wrote ${via(kind)}${unverified}`), ...(msg.text.trim() ? longText(msg.text, url) : []), ...files]) } };
  }
  if (msg.isPrivate) {
    if (writtenInSlack) return undefined;
    return { state: 'note', body: { text: `Internal note by ${author}`, blocks: fit([context(':lock: *Internal note* by', plain(rawAuthor), '(the customer does not see this)'), ...longText(msg.text, url), ...files]) } };
  }
  const status = statusLine(msg, kind);
  const head = writtenInSlack ? [] : [context(':leftwards_arrow_with_hook:', plain(rawAuthor), 'replied'), ...longText(msg.text, url), ...files];
  const text = status.map((p) => (typeof p === 'string' ? p : escapeMrkdwn(String(p.text)))).join(' ');
  return { state: `out:${msg.deliveryStatus}:${msg.deliveryError ?? ''}`, body: { text: text.replace(/<!date\^\d+\^\{time\}\|([^>]+)>/g, '$1'), blocks: fit([...head, context(...status)]) } };
}

/** The delivery line of a reply; a failure's reason (a remote server's words) goes in as plain text. */
function statusLine(msg: MessageRow, kind: string): (string | Block)[] {
  const by = msg.authorName ? ` by ${escapeName(msg.authorName)}` : '';
  switch (msg.deliveryStatus) {
    case 'sent':
    case 'delivered':
    case 'read':
      return [`:white_check_mark: Sent ${via(kind)}${by} ${slackDate(msg.sentAt)}${msg.deliveryStatus === 'sent' ? '' : ` · ${msg.deliveryStatus}`}`];
    case 'failed':
      return [`:warning: *Not delivered* ${via(kind)}:`, name(msg.deliveryError ?? 'unknown reason')];
    case 'unknown':
      return [`:grey_question: *Delivery unknown* ${via(kind)}:`, name(msg.deliveryError ?? 'the send was interrupted'), 'Check before sending again.'];
    default:
      return [`:hourglass_flowing_sand: Sending ${via(kind)}${by}…`];
  }
}

/** The compose modal (edit draft, reply, note); what it is for rides in private_metadata. */
export function composeModal(p: { conversationId: string; draftId?: string; mode: 'reply' | 'note'; initial?: string; customer: string; channel?: string; threadTs?: string }): Block {
  const note = p.mode === 'note';
  const initial = p.initial ? truncate(p.initial, LIMITS.modalInput).text : undefined;
  return {
    type: 'modal',
    callback_id: COMPOSE_CALLBACK,
    private_metadata: JSON.stringify({ c: p.conversationId, d: p.draftId, m: p.mode, ch: p.channel, ts: p.threadTs }),
    title: { type: 'plain_text', text: note ? 'Internal note' : p.draftId ? 'Edit draft' : 'Reply to customer' },
    submit: { type: 'plain_text', text: note ? 'Save note' : 'Send' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      note ? context(':lock: Only agents see this note. It never reaches the customer.') : context(':incoming_envelope: This goes to', name(p.customer)),
      {
        type: 'input',
        block_id: 'compose',
        label: { type: 'plain_text', text: note ? 'Note' : 'Message' },
        element: { type: 'plain_text_input', action_id: 'text', multiline: true, max_length: LIMITS.modalInput, ...(initial ? { initial_value: initial } : {}) },
      },
    ],
  };
}

/** The App Home tab: the agent's open conversations. */
export function homeView(p: { linked: boolean; conversations: { id: string; ref: string; title: string; customer: string; status: string; url: string }[] }): Block {
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: 'Your open conversations' } }];
  if (!p.linked) blocks.push({ type: 'section', text: mrkdwn('Your Slack account is not linked to a HummDesk agent yet. Ask an admin to link it, or use the same email address in Slack and HummDesk.') });
  else if (!p.conversations.length) blocks.push({ type: 'section', text: mrkdwn('Nothing assigned to you is open. :tada:') });
  for (const c of p.conversations.slice(0, 40)) {
    // Subject and customer are the customer's words: plain text; the link is a button of ours.
    blocks.push({
      type: 'section',
      text: plain(`${truncate(oneLineName(c.title), 150).text}\n${oneLineName(c.customer)} · ${c.status}`),
      accessory: { type: 'button', text: { type: 'plain_text', text: `Open #${c.ref}`, emoji: false }, url: c.url, action_id: ACTIONS.open },
    });
  }
  return { type: 'home', blocks: fit(blocks, 100) };
}

/** Keeps a message within Slack's block count, the actions block (last but one) and footer kept. */
export function fit(blocks: Block[], max: number = LIMITS.blocksPerMessage): Block[] {
  if (blocks.length <= max) return blocks;
  const tailStart = blocks.findIndex((b) => b.type === 'actions');
  const tail = tailStart >= 0 ? blocks.slice(tailStart) : [];
  const head = blocks.slice(0, tailStart >= 0 ? tailStart : blocks.length);
  return [...head.slice(0, max - tail.length - 1), context('_Shortened to fit Slack._'), ...tail].slice(0, max);
}

export function hashBody(b: SlackMessageBody): string {
  return createHash('sha256').update(JSON.stringify(b)).digest('base64url');
}
