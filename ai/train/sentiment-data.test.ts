import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readRows } from '../eval/csv.js';
import { normalizeText } from '../text/features.js';
import { balanced, corpusDir, hashSplit, loadSentimentSets, ownMessages, SUPPORT_CHECK_PATH, SUPPORT_DEV_PATH, SUPPORT_HELD_OUT_PATH, SUPPORT_MESSAGES_PATH, SUPPORT_REQUESTS_PATH } from './sentiment-data.js';

const dir = corpusDir();
// Reading every set (~115,000 rows) takes a minute or more on a busy machine.
const LOADS_SETS = { timeout: 300_000 };
if (!dir) console.warn('SKIPPED: sentiment corpus not found (set HUMMDESK_CORPUS_DIR or put shared/data beside the repo)');

describe('sentiment data splits', () => {
  it('split by text, so a duplicate cannot straddle train and test', () => {
    expect(hashSplit('Great service, thanks!')).toBe(hashSplit('great  service, THANKS!'));
    // Digits normalise away, so the texts differ by letters.
    const splits = Array.from({ length: 2000 }, (_, i) => hashSplit(`message ${i.toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[+d]!)}`));
    const test = splits.filter((s) => s === 'test').length / splits.length;
    expect(test).toBeGreaterThan(0.07);
    expect(test).toBeLessThan(0.13);
  });

  it('balance classes to the smallest one', () => {
    const rows = [...Array(5).fill({ label: 'a' }), ...Array(2).fill({ label: 'b' })] as { label: string }[];
    expect(balanced(rows).length).toBe(4);
  });

  it.skipIf(!dir)('never test on a text the model trained on, and hold out every source', LOADS_SETS, () => {
    const sets = loadSentimentSets(dir!);
    const key = (t: string) => normalizeText(t).replace(/\s+/g, ' ').trim();
    const trained = new Set(sets.train.map((r) => key(r.text)));
    expect(sets.test.filter((r) => trained.has(key(r.text)))).toEqual([]);
    const held = new Set(sets.test.map((r) => r.source));
    for (const s of ['goemotions', 'finnsentiment', 'xed-en', 'xed-fi', 'xed-sv', 'uci-amazon', 'uci-yelp', 'uci-imdb', 'clinc', 'bitext']) expect(held).toContain(s);
  });

  it.skipIf(!dir)('train on no Bitext row (its licence is not stated) and on requests only as neutral or thanks', LOADS_SETS, () => {
    const sets = loadSentimentSets(dir!);
    expect(sets.train.filter((r) => r.source === 'bitext')).toEqual([]);
    expect(sets.dev.filter((r) => r.source === 'bitext').length).toBeGreaterThan(sets.test.filter((r) => r.source === 'bitext').length);
    const clinc = sets.train.filter((r) => r.source === 'clinc');
    expect(new Set(clinc.map((r) => r.label))).toEqual(new Set(['neutral', 'positive']));
    // Only the thank-you intent (100 training rows) is positive.
    expect(clinc.filter((r) => r.label === 'positive').length).toBeLessThanOrEqual(100);
    expect(clinc.some((r) => /lost my luggage|report (a )?fraud/i.test(r.text))).toBe(false);
  });

  it("reads the team's own messages with every class in every language, none of them a held-out fixture text", () => {
    const own = ownMessages();
    for (const lang of ['sv', 'fi', 'da', 'nb', 'de']) expect(new Set(own.filter((r) => r.lang === lang).map((r) => r.label))).toEqual(new Set(['negative', 'neutral', 'positive']));
    const key = (t: string) => normalizeText(t).replace(/\s+/g, ' ').trim();
    const fixture = new Set(readRows(fileURLToPath(new URL('../providers/local/fixtures/customer-messages.csv', import.meta.url))).map((r) => key(r.text!)));
    expect(own.filter((r) => fixture.has(key(r.text)))).toEqual([]);
  });

  // A training text that is also in a set we measure on would be dropped from that set without a word (loadSentimentSets).
  it('trains on no support text of the held-out, check or dev sets or the fixture', () => {
    const key = (t: string) => normalizeText(t).replace(/\s+/g, ' ').trim();
    const measured = new Set([SUPPORT_HELD_OUT_PATH, SUPPORT_CHECK_PATH, SUPPORT_DEV_PATH, fileURLToPath(new URL('../providers/local/fixtures/customer-messages.csv', import.meta.url))]
      .flatMap((path) => readRows(path).map((r) => key(r.text!))));
    const trained = [...ownMessages(SUPPORT_MESSAGES_PATH, 'support'), ...ownMessages(SUPPORT_REQUESTS_PATH, 'support')];
    expect(trained.length).toBeGreaterThan(400);
    expect(trained.filter((r) => measured.has(key(r.text))).map((r) => r.text)).toEqual([]);
    for (const lang of ['en', 'fi', 'sv', 'de']) expect(new Set(ownMessages(SUPPORT_REQUESTS_PATH).filter((r) => r.lang === lang).map((r) => r.label))).toEqual(new Set(['negative', 'neutral']));
  });
});
