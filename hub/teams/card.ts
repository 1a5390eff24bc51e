import { cardTitle, cardVersion, offeredActions, SNOOZE_CHOICES, via, type CardAction, type CardModel, type CardViewer, type OfferedAction } from '../surfaces/card.js';
import { replyWindowState, type ReplyWindow } from '../surfaces/channel-window.js';

/**
 * Adaptive Cards (schema 1.5, as Teams renders them) for the conversation card: the second renderer of
 * the surface-neutral model in hub/surfaces/card.ts. Customer- and agent-written text only ever goes in
 * as TextRuns of a RichTextBlock, which no host reads as markdown: no link, mention or formatting can
 * come from it. Our own words are TextBlocks.
 */

export type AdaptiveElement = Record<string, unknown>;
export interface AdaptiveCard extends AdaptiveElement {
  type: 'AdaptiveCard';
  version: '1.5';
  body: AdaptiveElement[];
  actions?: AdaptiveElement[];
}

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
/** Teams refuses a message over 28 KB; the card stays under it with room for the activity around it. */
export const TEAMS_CARD_MAX_BYTES = 27 * 1024;
/** Teams refreshes a card per user for at most 60 listed users. */
export const REFRESH_MAX_USERS = 60;
/** The verb of the read-only per-user refresh. */
export const REFRESH_VERB = 'refresh';
/** Ids of the card's inputs, one per action that asks for text (ids must be unique in a card). */
export const INPUT_IDS = { editDraft: 'hdEditText', reply: 'hdReplyText', note: 'hdNoteText', snooze: 'hdSnoozeHours' } as const;
const INPUT_MAX = 4000;
const SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';

/** What every button of a card carries: the action, the conversation, the card version it was pressed on. */
export interface TeamsActionData {
  hd: CardAction | typeof REFRESH_VERB;
  conversationId: string;
  v: string;
  /** The draft a draft action is about. */
  d?: string;
}

export interface TeamsCardOptions {
  /** The card version buttons carry; cardVersion(model) unless given. */
  version?: string;
  /** Users (as Teams names them in `refresh.userIds`) whose view refreshes per user; no refresh when left out. */
  userIds?: string[];
  /** The assignee's Teams user id: first in `refresh.userIds`. */
  assigneeUserId?: string;
  /** The agent this rendering is for (an invoke answer or refresh); the shared card has none. */
  viewer?: CardViewer;
  /** The time the reply window is shown at (ms); now unless given. */
  now?: number;
}

const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
/** A name someone else chose, on one line and of a sane length. */
const nameOf = (s: string) => cut(oneLine(s), 200).text;
const cut = (s: string, max: number): { text: string; truncated: boolean } => {
  const chars = Array.from(s);
  return chars.length <= max ? { text: s, truncated: false } : { text: `${chars.slice(0, Math.max(0, max - 1)).join('').trimEnd()}…`, truncated: true };
};

/** Our own words: a TextBlock. */
const ours = (text: string, extra: AdaptiveElement = {}): AdaptiveElement => ({ type: 'TextBlock', text, wrap: true, ...extra });
/** Someone else's words: a TextRun, never read as markdown. */
const run = (text: string, extra: AdaptiveElement = {}): AdaptiveElement => ({ type: 'TextRun', text, ...extra });
const rich = (inlines: AdaptiveElement[], extra: AdaptiveElement = {}): AdaptiveElement => ({ type: 'RichTextBlock', inlines, ...extra });
const openUrl = (url: string, title: string): AdaptiveElement => ({ type: 'Action.OpenUrl', title, url });
const safeUrl = (url: string | undefined) => (url && /^https:\/\//.test(url) ? url : undefined);

/** A long text (customer's or agent's) as plain runs, cut with a link to the whole of it in HummDesk. */
function longText(text: string, max: number, url: string): AdaptiveElement[] {
  const t = cut(text.trim(), max);
  const out = [rich([run(t.text || ' ')])];
  if (t.truncated) out.push(rich([run('Shortened here: '), run('read the whole message in HummDesk', { selectAction: openUrl(url, 'Open in HummDesk') })], { spacing: 'Small' }));
  return out;
}

/** An Action.Execute with its Action.Submit fallback (older clients send a message with `value`). */
function execute(title: string, data: TeamsActionData, style?: OfferedAction['style']): AdaptiveElement {
  const s = style === 'primary' ? 'positive' : style === 'danger' ? 'destructive' : undefined;
  return {
    type: 'Action.Execute', title, verb: data.hd, data, ...(s ? { style: s } : {}),
    fallback: { type: 'Action.Submit', title, data, ...(s ? { style: s } : {}) },
  };
}

/** An action that asks for something first: a ShowCard with the input and the Execute that sends it. */
function showCard(title: string, inputs: AdaptiveElement[], submit: AdaptiveElement): AdaptiveElement {
  return { type: 'Action.ShowCard', title, card: { type: 'AdaptiveCard', body: inputs, actions: [submit] } };
}

function textInput(id: string, label: string, placeholder: string, value?: string): AdaptiveElement {
  return { type: 'Input.Text', id, label, isMultiline: true, isRequired: true, errorMessage: 'Write something first.', maxLength: INPUT_MAX, placeholder, ...(value ? { value } : {}) };
}

function actionElement(m: CardModel, a: OfferedAction, version: string, editable: boolean): AdaptiveElement {
  const data: TeamsActionData = { hd: a.action, conversationId: m.conversationId, v: version };
  const draftData = m.draft ? { ...data, d: m.draft.id } : data;
  switch (a.action) {
    case 'sendDraft':
      return execute(a.label, draftData, a.style);
    case 'editDraft':
      // A draft is never edited from a shortened copy: one too long for the card is edited in HummDesk.
      return editable
        ? showCard(a.label, [textInput(INPUT_IDS.editDraft, 'Reply', 'The reply to send', m.draft?.text)], execute('Send edited reply', draftData, 'primary'))
        : showCard(a.label, [ours('This draft is too long to edit here.')], openUrl(m.url, 'Edit in HummDesk'));
    case 'reply':
      return showCard(a.label, [ours(`This goes to the customer ${via(m.source.kind)}.`, { isSubtle: true, size: 'Small' }), textInput(INPUT_IDS.reply, 'Reply', 'Your reply')], execute('Send', data, 'primary'));
    case 'note':
      return showCard(a.label, [ours('Only agents see this note. It never reaches the customer.', { isSubtle: true, size: 'Small' }), textInput(INPUT_IDS.note, 'Note', 'Your note')], execute('Save note', data));
    case 'snooze':
      return showCard(
        a.label,
        [{ type: 'Input.ChoiceSet', id: INPUT_IDS.snooze, label: 'Snooze for', style: 'compact', value: String(SNOOZE_CHOICES[0]![1]), isRequired: true, errorMessage: 'Choose how long.', choices: SNOOZE_CHOICES.map(([title, h]) => ({ title, value: String(h) })) }],
        execute('Snooze', data),
      );
    default:
      return execute(a.label, data, a.style);
  }
}

function classification(m: CardModel): string | undefined {
  const parts: string[] = [];
  if (m.category) parts.push(`Category: ${m.category}`);
  if (m.priority) parts.push(`Priority: ${m.priority}`);
  if (m.sentiment) parts.push(`Sentiment: ${m.sentiment}`);
  if (m.language) parts.push(`Language: ${m.language}`);
  if (m.confidence !== null && m.confidence !== undefined) parts.push(`Confidence: ${Math.round(m.confidence * 100)}%`);
  return m.category || m.sentiment || m.language || (m.confidence !== null && m.confidence !== undefined) ? parts.join('  ·  ') : undefined;
}

function refreshUsers(o: TeamsCardOptions): string[] {
  const ids = [...(o.assigneeUserId ? [o.assigneeUserId] : []), ...(o.userIds ?? [])];
  return [...new Set(ids.filter((id) => typeof id === 'string' && id))].slice(0, REFRESH_MAX_USERS);
}

interface Budget {
  firstLines: number;
  draft: number;
  citations: number;
  /** The whole draft goes into the Edit draft input. */
  editable: boolean;
}

/**
 * The reply window as one line, times in the reader's own zone (Teams' DATE/TIME functions). TIME() shows
 * no seconds, so the times go in to the minute (floored): a customer writing again within the minute moves
 * the window by seconds nobody sees, and the shared card is not updated for it.
 */
export function teamsWindowLine(w: ReplyWindow, now: number): string {
  const when = (iso: string | null | undefined) => {
    const t = iso ? cardTime(iso, 60_000) : undefined;
    return t ? `{{DATE(${t}, SHORT)}} {{TIME(${t})}}` : '';
  };
  const state = replyWindowState(w, now);
  if (w.kind === 'whatsapp')
    return state === 'open' ? `Replies allowed until ${when(w.closesAt)} (WhatsApp's 24-hour window); after that only templates` : "WhatsApp's 24-hour window is closed: only an approved template can be sent";
  if (state === 'open') return `Replies allowed until ${when(w.responseClosesAt ?? w.closesAt)} (Messenger's 24-hour window)${w.responseClosesAt ? `; after that by a person until ${when(w.closesAt)} (human agent tag)` : ''}`;
  if (state === 'human_agent') return `Messenger's 24-hour window is closed: an agent can still answer until ${when(w.closesAt)} (human agent tag, 7 days)`;
  return "Messenger's reply window is closed: the customer has to write first";
}

/** A time of ours for Teams' DATE/TIME functions (RFC 3339 without fractions; floored to `unitMs`), or undefined. */
function cardTime(iso: string, unitMs = 1000): string | undefined {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : new Date(Math.floor(t / unitMs) * unitMs).toISOString().replace(/\.\d+Z$/, 'Z');
}

function render(m: CardModel, o: TeamsCardOptions & { version: string }, budget: Budget): AdaptiveCard {
  const mine = !!o.viewer && !!m.assigneeId && m.assigneeId === o.viewer.userId;
  const body: AdaptiveElement[] = [
    rich([run(cut(cardTitle(m, oneLine), 150).text, { size: 'Medium', weight: 'Bolder' })]),
    rich([run(nameOf(m.customer) || 'Customer', { weight: 'Bolder' }), run(` ${via(m.source.kind)} (`), run(nameOf(m.source.name) || m.source.kind), run(')')], { spacing: 'Small' }),
    ...(m.firstLines.trim() ? longText(m.firstLines, budget.firstLines, m.url) : []),
  ];
  const ai = classification(m);
  // Category and language names are configured or detected, not typed by the customer, but still not ours: runs.
  if (ai) body.push(rich([run('AI  ', { weight: 'Bolder', isSubtle: true }), run(ai, { isSubtle: true })], { spacing: 'Medium' }));
  const until = m.status === 'snoozed' && m.snoozedUntil ? cardTime(m.snoozedUntil) : undefined;
  const status = until ? `snoozed until {{DATE(${until}, SHORT)}} {{TIME(${until})}}` : m.status;
  body.push(ours(`Status: ${status}  ·  Priority: ${m.priority}  ·  #${m.ref}`, { spacing: 'Small', size: 'Small' }));
  if (m.replyWindow) body.push(ours(teamsWindowLine(m.replyWindow, o.now ?? Date.now()), { spacing: 'Small', size: 'Small', ...(replyWindowState(m.replyWindow, o.now ?? Date.now()) === 'open' ? {} : { color: 'Warning' }) }));
  body.push(
    rich(
      mine ? [run('Assigned to you', { weight: 'Bolder', size: 'Small' })]
        : m.assignee ? [run('Assignee: ', { size: 'Small' }), run(nameOf(m.assignee), { weight: 'Bolder', size: 'Small' })]
          : [run('Unassigned', { isSubtle: true, italic: true, size: 'Small' })],
      { spacing: 'Small' },
    ),
  );
  const offered = offeredActions(m, o.viewer);
  const draftActions = offered.filter((a) => a.action === 'sendDraft' || a.action === 'editDraft');
  if (m.draft) {
    const draft: AdaptiveElement[] = [
      ours('Proposed reply', { weight: 'Bolder' }),
      ...(m.draft.extractive ? [ours('Quoted from the knowledge base, not generated.', { isSubtle: true, size: 'Small', spacing: 'None' })] : []),
      ...longText(m.draft.text, budget.draft, m.url),
    ];
    const cites = m.draft.citations.slice(0, budget.citations).map((c, i) => {
      const label = `[${i + 1}] ${cut(oneLine(c.title ?? c.id ?? 'source'), 80).text}`;
      const url = safeUrl(c.url);
      return run(`${label}  `, url ? { selectAction: openUrl(url, label), color: 'Accent' } : {});
    });
    if (cites.length) draft.push(rich([run('Sources: ', { weight: 'Bolder', size: 'Small' }), ...cites.map((c) => ({ ...c, size: 'Small' }))], { spacing: 'Small' }));
    if (draftActions.length) draft.push({ type: 'ActionSet', actions: draftActions.map((a) => actionElement(m, a, o.version, budget.editable)) });
    body.push({ type: 'Container', style: 'emphasis', separator: true, spacing: 'Medium', items: draft });
  }
  // Two rows of at most three buttons: Teams shows six actions a row at most, and cuts long titles.
  const rest = [...offered.filter((a) => !draftActions.includes(a)).map((a) => actionElement(m, a, o.version, budget.editable)), openUrl(m.url, 'Open in HummDesk')];
  body.push({ type: 'ActionSet', spacing: 'Medium', actions: rest.slice(0, 3) }, { type: 'ActionSet', spacing: 'Small', actions: rest.slice(3) });
  body.push(
    ours(
      m.threadReplies === 'notes'
        ? 'Replies in this thread are internal notes. Use "Reply to customer" to answer the customer.'
        : 'Replies in this thread go to the customer. Use "Add note" for an internal note.',
      { isSubtle: true, size: 'Small', spacing: 'Medium' },
    ),
  );
  const users = refreshUsers(o);
  return {
    type: 'AdaptiveCard',
    $schema: SCHEMA,
    version: '1.5',
    ...(o.userIds ? { refresh: { action: { type: 'Action.Execute', title: 'Refresh', verb: REFRESH_VERB, data: { hd: REFRESH_VERB, conversationId: m.conversationId, v: o.version } satisfies TeamsActionData }, userIds: users } } : {}),
    msteams: { width: 'Full' },
    body,
  };
}

export const cardBytes = (card: AdaptiveCard) => Buffer.byteLength(JSON.stringify(card), 'utf8');

/**
 * The conversation's root card (the shared one, or one agent's view with `viewer`). Kept within
 * TEAMS_CARD_MAX_BYTES by shortening the customer's first lines and the draft (each with a link to the whole).
 */
export function teamsConversationCard(m: CardModel, options: TeamsCardOptions = {}): AdaptiveCard {
  const o = { ...options, version: options.version ?? cardVersion(m) };
  const budget: Budget = { firstLines: 1200, draft: 4000, citations: 10, editable: !!m.draft && m.draft.text.length <= INPUT_MAX };
  let card = render(m, o, budget);
  for (let i = 0; i < 12 && cardBytes(card) > TEAMS_CARD_MAX_BYTES; i++) {
    budget.draft = Math.max(200, Math.floor(budget.draft / 2));
    budget.firstLines = Math.max(200, Math.floor(budget.firstLines / 2));
    if (i >= 3) budget.editable = false;
    if (i >= 4) budget.citations = Math.max(0, budget.citations - 4);
    card = render(m, o, budget);
  }
  // Only names and titles this long remain: the card says where to look instead.
  return cardBytes(card) <= TEAMS_CARD_MAX_BYTES ? card : teamsNoticeCard(`Conversation #${m.ref} is too large to show here.`, { url: m.url, title: 'Open in HummDesk' });
}

/** A short card of ours (a refusal, "moved to …"), with an optional link; the text goes in as a plain run. */
export function teamsNoticeCard(text: string, link?: { url: string; title: string }): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    $schema: SCHEMA,
    version: '1.5',
    body: [rich([run(cut(text, 2000).text)])],
    ...(link ? { actions: [openUrl(link.url, link.title)] } : {}),
  };
}

/** The attachment that carries a card in an activity. */
export function cardAttachment(card: AdaptiveCard): { contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE; content: AdaptiveCard } {
  return { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card };
}
