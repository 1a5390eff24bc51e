import { describe, expect, it } from 'vitest';
import { cardVersion, type CardModel } from '../surfaces/card.js';
import { cardBytes, INPUT_IDS, REFRESH_MAX_USERS, TEAMS_CARD_MAX_BYTES, teamsConversationCard, teamsNoticeCard, type AdaptiveElement } from './card.js';

const sampleCard: CardModel = {
  conversationId: '00000000-0000-4000-8000-000000000002', ref: '00000000', url: 'https://hub.example/#/conversations/2', subject: 'Invoice', status: 'open',
  priority: 'high', category: 'billing', sentiment: 'negative', language: 'en', confidence: 0.8, snoozedUntil: null, customer: 'Jane Roe',
  source: { kind: 'email', name: 'Support' }, firstLines: 'My invoice is wrong', assignee: null, assigneeId: null, threadReplies: 'notes',
  draft: { id: '00000000-0000-4000-8000-000000000009', text: 'Sorry, here is the fix.', extractive: true, citations: [{ title: 'Invoices', url: 'https://kb.example/invoices' }, { title: 'Local', url: 'javascript:alert(1)' }] },
};

/** Every element and action of a card, depth first. */
function walk(v: unknown, out: AdaptiveElement[] = []): AdaptiveElement[] {
  if (Array.isArray(v)) v.forEach((x) => walk(x, out));
  else if (v && typeof v === 'object') {
    const o = v as AdaptiveElement;
    if (typeof o.type === 'string') out.push(o);
    Object.values(o).forEach((x) => walk(x, out));
  }
  return out;
}
const executes = (card: unknown) => walk(card).filter((e) => e.type === 'Action.Execute' && e.verb !== 'refresh');
const titles = (card: unknown) => walk(card).filter((e) => typeof e.type === 'string' && (e.type as string).startsWith('Action.') && e.type !== 'Action.Submit').map((e) => e.title);

describe('Teams conversation card', () => {
  const v = cardVersion(sampleCard);

  it('is an Adaptive Card 1.5 offering every action, each Execute with data and an Action.Submit fallback', () => {
    const card = teamsConversationCard(sampleCard, { version: v });
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    expect(titles(card)).toEqual(expect.arrayContaining(['Send draft', 'Edit draft', 'Reply to customer', 'Add note', 'Assign to me', 'Resolve', 'Snooze', 'Open in HummDesk']));
    const ex = executes(card);
    expect(ex.map((e) => e.verb).sort()).toEqual(['assignMe', 'editDraft', 'note', 'reply', 'resolve', 'sendDraft', 'snooze']);
    for (const e of ex) {
      expect(e.data).toMatchObject({ hd: e.verb, conversationId: sampleCard.conversationId, v });
      expect(e.fallback).toEqual(expect.objectContaining({ type: 'Action.Submit', data: e.data }));
    }
    expect(ex.find((e) => e.verb === 'sendDraft')!.data).toMatchObject({ d: sampleCard.draft!.id });
    // Edit draft is a ShowCard holding the draft in a multiline input.
    const edit = walk(card).find((e) => e.type === 'Action.ShowCard' && e.title === 'Edit draft')!;
    expect(walk(edit.card)).toContainEqual(expect.objectContaining({ type: 'Input.Text', id: INPUT_IDS.editDraft, isMultiline: true, value: sampleCard.draft!.text }));
    // Input ids are unique over the card.
    const ids = walk(card).filter((e) => typeof e.id === 'string').map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('offers Reopen when resolved, no draft buttons without a draft, and drops "Assign to me" in the assignee\'s own view', () => {
    const resolved = teamsConversationCard({ ...sampleCard, status: 'resolved', draft: undefined }, { version: v });
    expect(titles(resolved)).toContain('Reopen');
    expect(titles(resolved)).not.toContain('Resolve');
    expect(titles(resolved)).not.toContain('Send draft');
    const m = { ...sampleCard, assignee: 'Ann Agent', assigneeId: 'u1' };
    expect(titles(teamsConversationCard(m, { version: v, viewer: { userId: 'u1' } }))).not.toContain('Assign to me');
    expect(JSON.stringify(teamsConversationCard(m, { version: v, viewer: { userId: 'u1' } }))).toContain('Assigned to you');
    expect(titles(teamsConversationCard(m, { version: v, viewer: { userId: 'u2' } }))).toContain('Assign to me');
    expect(titles(teamsConversationCard(m, { version: v }))).toContain('Assign to me');
  });

  it('refreshes per user for at most 60 users, the assignee first', () => {
    const userIds = Array.from({ length: 80 }, (_, i) => `29:user-${i}`);
    const card = teamsConversationCard(sampleCard, { version: v, userIds, assigneeUserId: '29:user-70' });
    const refresh = card.refresh as { action: AdaptiveElement; userIds: string[] };
    expect(refresh.action).toMatchObject({ type: 'Action.Execute', verb: 'refresh', data: { hd: 'refresh', conversationId: sampleCard.conversationId, v } });
    expect(refresh.userIds).toHaveLength(REFRESH_MAX_USERS);
    expect(refresh.userIds[0]).toBe('29:user-70');
    expect(new Set(refresh.userIds).size).toBe(REFRESH_MAX_USERS);
    expect(teamsConversationCard(sampleCard, { version: v }).refresh).toBeUndefined();
  });

  it('puts customer and agent words only in TextRuns, never in markdown TextBlocks, and links only https sources', () => {
    const evil = '**bold** [click](https://evil.example) <at>Boss</at> _x_ {{DATE(2020-01-01T00:00:00Z)}}';
    const card = teamsConversationCard({ ...sampleCard, subject: evil, customer: evil, firstLines: evil, assignee: evil, source: { kind: 'email', name: evil }, category: evil, draft: { ...sampleCard.draft!, text: evil } }, { version: v });
    for (const tb of walk(card).filter((e) => e.type === 'TextBlock')) expect(String(tb.text)).not.toContain('evil.example');
    expect(walk(card).filter((e) => e.type === 'TextRun' && String(e.text).includes('[click](https://evil.example)')).length).toBeGreaterThanOrEqual(5);
    const urls = walk(card).filter((e) => e.type === 'Action.OpenUrl').map((e) => e.url);
    expect(urls).toContain('https://kb.example/invoices');
    expect(urls.some((u) => String(u).startsWith('javascript:'))).toBe(false);
  });

  it('shows a snoozed time through Teams date functions', () => {
    const card = teamsConversationCard({ ...sampleCard, status: 'snoozed', snoozedUntil: '2026-03-01T09:30:00.000Z' }, { version: v });
    expect(JSON.stringify(card)).toContain('snoozed until {{DATE(2026-03-01T09:30:00Z, SHORT)}} {{TIME(2026-03-01T09:30:00Z)}}');
  });

  it('stays within 28 KB with huge texts, shortened with a link, and never offers to edit a shortened draft', () => {
    const huge = 'Lorem ipsum dolor sit amet. '.repeat(3000);
    const citations = Array.from({ length: 40 }, (_, i) => ({ title: `Article ${i} ${'x'.repeat(200)}`, url: `https://kb.example/${i}/${'y'.repeat(300)}` }));
    const card = teamsConversationCard({ ...sampleCard, firstLines: huge, draft: { ...sampleCard.draft!, text: huge, citations } }, { version: v, userIds: Array.from({ length: 60 }, (_, i) => `29:${'z'.repeat(60)}${i}`) });
    expect(cardBytes(card)).toBeLessThanOrEqual(TEAMS_CARD_MAX_BYTES);
    expect(TEAMS_CARD_MAX_BYTES).toBeLessThanOrEqual(28 * 1024);
    expect(JSON.stringify(card)).toContain('read the whole message in HummDesk');
    expect(walk(card).some((e) => e.id === INPUT_IDS.editDraft)).toBe(false);
    expect(titles(card)).toContain('Edit in HummDesk');
    // A draft that fits is editable whole.
    const fits = teamsConversationCard({ ...sampleCard, draft: { ...sampleCard.draft!, text: 'a'.repeat(3000) } }, { version: v });
    expect(walk(fits).find((e) => e.id === INPUT_IDS.editDraft)!.value).toBe('a'.repeat(3000));
  });

  it('changes version whenever what the actions act on changes, not with a new classification', () => {
    expect(cardVersion({ ...sampleCard, category: 'other', confidence: 0.1 })).toBe(v);
    expect(cardVersion({ ...sampleCard, snoozedUntil: '2026-03-01T09:30:00Z' })).toBe(cardVersion({ ...sampleCard, snoozedUntil: '2026-03-01T09:30:00.000Z' }));
    expect(cardVersion({ ...sampleCard, assignee: 'Ann', assigneeId: 'u1' })).not.toBe(v);
    expect(cardVersion({ ...sampleCard, status: 'resolved' })).not.toBe(v);
    expect(cardVersion({ ...sampleCard, draft: undefined })).not.toBe(v);
    expect(cardVersion({ ...sampleCard })).toBe(v);
  });

  it('notice cards carry their text as a plain run', () => {
    const card = teamsNoticeCard('Moved to **General**', { url: 'https://hub.example/c/1', title: 'Open in HummDesk' });
    expect(walk(card)).toContainEqual(expect.objectContaining({ type: 'TextRun', text: 'Moved to **General**' }));
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in HummDesk', url: 'https://hub.example/c/1' }]);
  });

  it('shows the reply window: WhatsApp\'s 24 hours, Messenger\'s RESPONSE window, its HUMAN_AGENT days, closed; other channels none', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    const texts = (m: CardModel) => walk(teamsConversationCard(m, { now })).filter((e) => e.type === 'TextBlock').map((e) => String(e.text));
    const line = (m: CardModel) => texts(m).find((t) => /window/.test(t));
    expect(line(sampleCard)).toBeUndefined();
    const wa = { ...sampleCard, source: { kind: 'whatsapp', name: 'WA' }, replyWindow: { kind: 'whatsapp' as const, closesAt: '2026-03-01T20:00:00.000Z' } };
    expect(line(wa)).toBe("Replies allowed until {{DATE(2026-03-01T20:00:00Z, SHORT)}} {{TIME(2026-03-01T20:00:00Z)}} (WhatsApp's 24-hour window); after that only templates");
    expect(line({ ...wa, replyWindow: { kind: 'whatsapp', closesAt: null } })).toContain('only an approved template can be sent');
    const ms = (responseClosesAt: string, closesAt: string): CardModel => ({ ...sampleCard, source: { kind: 'messenger', name: 'Page' }, replyWindow: { kind: 'messenger', closesAt, responseClosesAt } });
    expect(line(ms('2026-03-02T08:00:00.000Z', '2026-03-08T08:00:00.000Z'))).toBe(
      "Replies allowed until {{DATE(2026-03-02T08:00:00Z, SHORT)}} {{TIME(2026-03-02T08:00:00Z)}} (Messenger's 24-hour window); after that by a person until {{DATE(2026-03-08T08:00:00Z, SHORT)}} {{TIME(2026-03-08T08:00:00Z)}} (human agent tag)",
    );
    const tagged = teamsConversationCard(ms('2026-03-01T06:00:00.000Z', '2026-03-07T06:00:00.000Z'), { now });
    expect(walk(tagged)).toContainEqual(expect.objectContaining({ type: 'TextBlock', color: 'Warning', text: "Messenger's 24-hour window is closed: an agent can still answer until {{DATE(2026-03-07T06:00:00Z, SHORT)}} {{TIME(2026-03-07T06:00:00Z)}} (human agent tag, 7 days)" }));
    expect(line(ms('2026-02-20T06:00:00.000Z', '2026-02-26T06:00:00.000Z'))).toBe("Messenger's reply window is closed: the customer has to write first");
  });

  it('shows reply-window times to the minute, as Teams\' TIME() does: a customer writing again within the minute leaves the shared card as it was', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    const closingAt = (closesAt: string) => JSON.stringify(teamsConversationCard({ ...sampleCard, source: { kind: 'whatsapp', name: 'WA' }, replyWindow: { kind: 'whatsapp', closesAt } }, { now }));
    expect(closingAt('2026-03-01T20:00:05.120Z')).toBe(closingAt('2026-03-01T20:00:51.000Z'));
    expect(closingAt('2026-03-01T20:00:51.000Z')).toContain('{{TIME(2026-03-01T20:00:00Z)}}');
    expect(closingAt('2026-03-01T20:01:00.000Z')).not.toBe(closingAt('2026-03-01T20:00:51.000Z'));
  });
});
