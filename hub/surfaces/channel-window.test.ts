import { describe, expect, it } from 'vitest';
import { humanAgentAllowed, replyWindowOf, replyWindowState } from './channel-window.js';

const last = '2026-03-01T10:00:00.000Z';
const at = (hours: number) => Date.parse(last) + hours * 3600_000;

describe('reply windows (WhatsApp, Messenger)', () => {
  it('WhatsApp: 24 hours from the customer\'s last message, then closed (templates only)', () => {
    const w = replyWindowOf('whatsapp', last)!;
    expect(w).toEqual({ kind: 'whatsapp', closesAt: '2026-03-02T10:00:00.000Z' });
    expect(replyWindowState(w, at(23))).toBe('open');
    expect(replyWindowState(w, at(24))).toBe('closed');
  });

  it('Messenger: RESPONSE for 24 hours, then HUMAN_AGENT up to 7 days, then closed', () => {
    const w = replyWindowOf('messenger', new Date(last))!;
    expect(w).toEqual({ kind: 'messenger', closesAt: '2026-03-08T10:00:00.000Z', responseClosesAt: '2026-03-02T10:00:00.000Z' });
    expect(replyWindowState(w, at(1))).toBe('open');
    expect(replyWindowState(w, at(30))).toBe('human_agent');
    expect(replyWindowState(w, at(7 * 24 - 1))).toBe('human_agent');
    expect(replyWindowState(w, at(8 * 24))).toBe('closed');
  });

  it('Messenger without the HUMAN_AGENT tag: 24 hours only', () => {
    expect(humanAgentAllowed({ humanAgentTag: false })).toBe(false);
    expect(humanAgentAllowed({})).toBe(true);
    const w = replyWindowOf('messenger', last, { humanAgent: false })!;
    expect(w).toEqual({ kind: 'messenger', closesAt: '2026-03-02T10:00:00.000Z' });
    expect(replyWindowState(w, at(30))).toBe('closed');
  });

  it('a customer who never wrote leaves the window closed; other channels have none', () => {
    expect(replyWindowState(replyWindowOf('messenger', null)!, at(0))).toBe('closed');
    expect(replyWindowOf('whatsapp', undefined)).toEqual({ kind: 'whatsapp', closesAt: null });
    expect(replyWindowOf('email', last)).toBeUndefined();
  });
});
