import { describe, expect, it } from 'vitest';
import type { MessageRow } from '../../storage/repositories/messages.js';
import { blockKitProblems, viewProblems } from '../../connectors/slack/testing/block-kit.js';
import { composeModal, homeView, messageReply, movedCard, rootCard, type Block, type CardModel } from './blocks.js';

const base: MessageRow = {
  id: '00000000-0000-0000-0000-000000000001', conversationId: '00000000-0000-0000-0000-000000000002', channelId: '00000000-0000-0000-0000-000000000003',
  direction: 'inbound', authorKind: 'contact', authorUserId: null, authorName: 'Jane Roe', sender: null, notice: null, authentication: null, isPrivate: false,
  text: 'Cancel the contract please.', html: null, externalId: 'x@evil.example', inReplyTo: null, deliveryStatus: null, deliveryError: null,
  autoReply: false, sentAt: '2026-01-01T00:00:00Z', createdAt: '2026-01-01T00:00:00Z', metadata: {}, attachments: [],
};
const card: CardModel = {
  conversationId: base.conversationId, ref: '00000000', url: 'https://hub.example/#/conversations/1', subject: 'Invoice', status: 'open', priority: 'high',
  category: 'billing', sentiment: 'negative', language: 'en', confidence: 0.8, snoozedUntil: null, customer: 'Jane Roe', source: { kind: 'email', name: 'Support' },
  firstLines: 'My invoice is wrong', assignee: null, threadReplies: 'notes',
};
const textOf = (r: ReturnType<typeof messageReply>) => JSON.stringify(r?.body.blocks);

/** Every text object in some blocks, with its type. */
function texts(blocks: unknown): { type: string; text: string; verbatim?: boolean }[] {
  const found: { type: string; text: string; verbatim?: boolean }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') found.push(o as never);
    Object.values(o).forEach(walk);
  };
  walk(blocks);
  return found;
}
const mrkdwnOf = (blocks: unknown) => texts(blocks).filter((t) => t.type === 'mrkdwn');

describe('Slack thread mirror of a message', () => {
  it('names the real sender of a customer message with their address', () => {
    const r = messageReply({ ...base, sender: { identityId: base.id, contactId: base.id, name: 'Jane Roe', address: 'mallory@evil.example' } }, 'email', 'https://hub/c/1', false);
    expect(r!.body.text).toBe('Jane Roe (mallory@evil.example): Cancel the contract please.');
    expect(texts(r!.body.blocks)).toContainEqual(expect.objectContaining({ type: 'plain_text', text: 'Jane Roe (mallory@evil.example)' }));
    expect(textOf(r)).toContain('wrote by email');
  });

  it('warns when the mailbox’s server found From forged', () => {
    const r = messageReply({ ...base, authentication: 'fail' }, 'email', 'https://hub/c/1', false);
    expect(textOf(r)).toContain('From not verified');
    expect(textOf(messageReply({ ...base, authentication: 'pass' }, 'email', 'https://hub/c/1', false))).not.toContain('not verified');
  });

  it('shows "X joined this thread" as a notice, not as something the customer wrote', () => {
    const r = messageReply({ ...base, authorKind: 'system', isPrivate: true, notice: 'participant_joined', text: 'Jane Roe <mallory@evil.example> joined this thread', sender: { identityId: base.id, contactId: base.id, name: 'Jane Roe', address: 'mallory@evil.example' } }, 'email', 'https://hub/c/1', false);
    expect(r!.state).toBe('notice');
    expect(textOf(r)).toContain('joined this thread');
    expect(textOf(r)).not.toContain('wrote');
  });
});

describe('text someone else chose cannot take over our layout', () => {
  const hostile = 'Support https://evil.example/pay <https://evil.example|your bank> @channel *URGENT*\n:white_check_mark: Sent by email \u202Efdp.exe';
  const attachments = [{ id: 'a1', kind: 'file', name: hostile, mimeType: 'text/plain', size: 1 }] as MessageRow['attachments'];
  const bodies: [string, Block[]][] = [
    ['root card', rootCard({ ...card, customer: hostile, subject: hostile, source: { kind: 'email', name: hostile }, assignee: hostile }).blocks],
    ['moved card', movedCard({ ...card, customer: hostile }, 'C0OTHER').blocks],
    ['inbound', messageReply({ ...base, authorName: hostile, sender: { identityId: base.id, contactId: base.id, name: hostile, address: hostile }, attachments }, 'email', 'https://hub/c/1', false)!.body.blocks],
    ['note', messageReply({ ...base, direction: 'outbound', isPrivate: true, authorName: hostile, attachments }, 'email', 'https://hub/c/1', false)!.body.blocks],
    ['reply', messageReply({ ...base, direction: 'outbound', authorName: hostile, deliveryStatus: 'failed', deliveryError: hostile }, 'email', 'https://hub/c/1', false)!.body.blocks],
    ['notice', messageReply({ ...base, isPrivate: true, notice: 'participant_joined', text: `${hostile} joined this thread` }, 'email', 'https://hub/c/1', false)!.body.blocks],
    ['compose modal', composeModal({ conversationId: base.conversationId, mode: 'reply', customer: hostile }).blocks as Block[]],
    ['home', homeView({ linked: true, conversations: [{ id: 'c', ref: 'abc', title: hostile, customer: hostile, status: 'open', url: 'https://hub/c/1' }] }).blocks as Block[]],
  ];
  for (const [what, blocks] of bodies)
    it(`${what}: names only as one-line plain text, every mrkdwn field verbatim, no bidi controls`, () => {
      for (const t of mrkdwnOf(blocks)) {
        expect(t.verbatim, t.text).toBe(true);
        expect(t.text).not.toContain('evil.example');
        expect(t.text).not.toContain('URGENT');
      }
      for (const t of texts(blocks)) {
        expect(t.text).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/);
        if (t.text.includes('evil.example')) expect(t.text, 'a name spans one line').not.toMatch(/URGENT\*\n/);
      }
    });
});

describe('blocks Slack accepts', () => {
  const long = `${'&<>'.repeat(800)} https://a.example/${'x'.repeat(100)} `.repeat(3);
  const model: CardModel = {
    ...card, subject: long, category: long, sentiment: long, customer: long, source: { kind: 'email', name: long }, firstLines: long, assignee: long, status: 'snoozed', snoozedUntil: '2026-01-01T00:00:00Z',
    draft: { id: base.id, text: long, extractive: true, citations: Array.from({ length: 20 }, (_, i) => ({ id: String(i), title: long, url: `https://kb.example/${i}` })) },
  };
  const msg: MessageRow = { ...base, authorName: long, sender: { identityId: base.id, contactId: base.id, name: long, address: long }, authentication: 'fail', text: long, deliveryStatus: 'failed', deliveryError: long, attachments: Array.from({ length: 200 }, (_, i) => ({ id: String(i), kind: 'file', name: long, mimeType: 'text/plain', size: 1 })) as MessageRow['attachments'] };

  it('every card, reply, modal and Home tab passes Slack’s Block Kit rules, however long or odd the text', () => {
    expect(blockKitProblems(rootCard(model).blocks, 'message')).toEqual([]);
    expect(blockKitProblems(rootCard({ ...card, subject: '   ', firstLines: '', draft: undefined }).blocks, 'message')).toEqual([]);
    expect(blockKitProblems(movedCard(model, 'C1').blocks, 'message')).toEqual([]);
    for (const m of [msg, { ...msg, direction: 'outbound' as const }, { ...msg, direction: 'outbound' as const, isPrivate: true }, { ...msg, notice: 'participant_joined' }, { ...msg, text: '', authorName: null, attachments: [] }])
      expect(blockKitProblems(messageReply(m, 'email', 'https://hub/c/1', false)!.body.blocks, 'message')).toEqual([]);
    for (const mode of ['reply', 'note'] as const) expect(viewProblems(composeModal({ conversationId: base.conversationId, mode, initial: long, customer: long, draftId: base.id }), 'modal')).toEqual([]);
    expect(viewProblems(homeView({ linked: true, conversations: Array.from({ length: 60 }, (_, i) => ({ id: String(i), ref: String(i), title: long, customer: long, status: 'open', url: 'https://hub/c/1' })) }), 'home')).toEqual([]);
    expect(viewProblems(homeView({ linked: false, conversations: [] }), 'home')).toEqual([]);
  });

  it('cuts long mrkdwn between tokens: no entity or link is left in half', () => {
    const fields = [...mrkdwnOf(rootCard(model).blocks), ...mrkdwnOf(messageReply(msg, 'email', 'https://hub/c/1', false)!.body.blocks)];
    for (const f of fields) {
      expect(f.text, f.text.slice(-40)).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect((f.text.match(/</g) ?? []).length).toBe((f.text.match(/>/g) ?? []).length);
    }
  });
});

describe('reply window on the card (WhatsApp, Messenger)', () => {
  const contextText = (m: CardModel) => JSON.stringify(rootCard(m).blocks.filter((b) => b.type === 'context'));
  const wa = (closesAt: string | null): CardModel => ({ ...card, source: { kind: 'whatsapp', name: 'WA' }, replyWindow: { kind: 'whatsapp', closesAt } });
  const slackTime = (iso: string) => `<!date^${Math.floor(Date.parse(iso) / 1000)}^`;
  it('WhatsApp: shows until when free replies are allowed, or that only templates remain; other channels show nothing', () => {
    const closes = new Date(Date.now() + 3 * 3600_000).toISOString();
    expect(contextText(wa(closes))).toContain(`Replies allowed until ${slackTime(closes)}`);
    expect(contextText(wa(new Date(Date.now() - 60_000).toISOString()))).toContain('only an approved template can be sent');
    expect(contextText(wa(null))).toContain('only an approved template can be sent');
    expect(contextText(card)).not.toContain('24-hour window');
    expect(blockKitProblems(rootCard(wa(closes)).blocks, 'message')).toEqual([]);
  });
  it('Messenger: the 24-hour RESPONSE window, then the HUMAN_AGENT tag\'s 7 days, then closed', () => {
    const ms = (lastHoursAgo: number, humanAgent = true): CardModel => {
      const last = Date.now() - lastHoursAgo * 3600_000;
      return { ...card, source: { kind: 'messenger', name: 'Page' }, replyWindow: { kind: 'messenger', closesAt: new Date(last + (humanAgent ? 7 * 24 : 24) * 3600_000).toISOString(), ...(humanAgent ? { responseClosesAt: new Date(last + 24 * 3600_000).toISOString() } : {}) } };
    };
    const open = ms(1);
    expect(contextText(open)).toContain(`Replies allowed until ${slackTime(open.replyWindow!.responseClosesAt!)}`);
    expect(contextText(open)).toContain(`by a person until ${slackTime(open.replyWindow!.closesAt!)}`);
    const tagged = ms(30);
    expect(contextText(tagged)).toContain(`an agent can still answer until ${slackTime(tagged.replyWindow!.closesAt!)}`);
    expect(contextText(ms(8 * 24))).toContain("Messenger's reply window is closed");
    expect(contextText(ms(30, false))).toContain("Messenger's reply window is closed");
    expect(contextText(ms(1, false))).not.toContain('by a person');
    for (const m of [open, tagged, ms(8 * 24)]) expect(blockKitProblems(rootCard(m).blocks, 'message')).toEqual([]);
  });
});
