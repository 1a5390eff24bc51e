import { describe, expect, it } from 'vitest';
import type { Classification } from '../../hub/ai-stage.js';
import { decideAutoSend } from './policy.js';

const ok = {
  classification: { category: 'account', confidence: 0.9, sentiment: 'neutral', priority: 'normal' } as Classification,
  draft: { text: 'Use the reset link.', citations: [], extractive: true },
  message: { autoReply: false, isLatestInbound: true, answered: false },
};
const on = { enabled: true, minConfidence: 0.8, categories: ['account'] };

describe('auto-send policy', () => {
  it('is off by default and without a threshold or category list', () => {
    expect(decideAutoSend(undefined, ok).send).toBe(false);
    expect(decideAutoSend({}, ok).send).toBe(false);
    expect(decideAutoSend({ enabled: true, categories: ['account'] }, ok).reasons).toContain('no confidence threshold configured');
    expect(decideAutoSend({ enabled: true, minConfidence: 0.5 }, ok).reasons).toContain('no allowed categories configured');
    expect(decideAutoSend(on, ok)).toMatchObject({ send: true });
  });

  it('never fires below the threshold, outside the categories, on auto-replies, angry or urgent messages', () => {
    const no = (patch: Classification, message: Partial<typeof ok.message> = {}) =>
      decideAutoSend(on, { ...ok, classification: { ...ok.classification, ...patch }, message: { ...ok.message, ...message } });
    expect(no({ confidence: 0.79 }).send).toBe(false);
    expect(no({ category: 'billing' }).send).toBe(false);
    expect(no({ category: 'unknown' }).send).toBe(false);
    expect(no({ sentiment: 'negative' }).reasons).toEqual(['negative sentiment']);
    expect(no({ priority: 'urgent' }).reasons).toEqual(['urgent']);
    expect(no({}, { autoReply: true }).reasons).toEqual(['the message is an auto-reply']);
    expect(no({}, { isLatestInbound: false }).send).toBe(false);
    expect(no({}, { answered: true }).send).toBe(false);
    expect(decideAutoSend(on, { ...ok, draft: undefined }).send).toBe(false);
  });
});
