import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { seedConversation } from '../../hub/testing/seed.js';
import { withAccount } from '../../storage/session.js';
import { SentimentModel, type Sentiment } from '../providers/local/sentiment.js';
import { learnResidual } from '../providers/local/sentiment-corrections.js';
import { addSentimentExample, sentimentCorrectionsInfo, SentimentModels } from './sentiment-store.js';

const base = SentimentModel.fromFile();
// Neutral to the shipped model, a complaint to an agent (corrected to the other label otherwise).
const idiom = 'The replacement kettle arrived as a box of bricks';
const shipped = base.classify(idiom).sentiment;
const corrected: Sentiment = shipped === 'negative' ? 'positive' : 'negative';

describe.each([['Postgres', false], ['PGlite', true]] as const)("an account's sentiment models on %s", (_store, embedded) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false, embedded });
    // A PGlite store starts in a minute or more on a machine other tests share.
  }, 180_000);
  afterAll(() => t?.close());

  async function correct(acct: TestAccount, text = idiom, label = corrected): Promise<void> {
    const s = await seedConversation(t, acct, { text });
    await withAccount(t.hub.db, acct.accountId, (tx) => addSentimentExample(tx, acct.accountId, { conversationId: s.conversationId, messageId: s.messageId, text, label, userId: null }));
  }

  const stored = (acct: TestAccount) =>
    withAccount(t.hub.db, acct.accountId, async (tx) =>
      (await tx.query<{ examples: number; baseModel: string }>(`SELECT examples, base_model AS "baseModel" FROM ai_sentiment_models WHERE account_id = $1`, [acct.accountId])).rows[0]);

  it('a burst of retrain requests trains once, and requests after a run started share one more run', async () => {
    const acct = await createTestAccount(t);
    const models = new SentimentModels(t.hub.db, () => base, { delayMs: 50 });
    await correct(acct);
    const first = models.retrain(acct.accountId);
    expect(models.retrain(acct.accountId)).toBe(first);
    expect(models.retrain(acct.accountId)).toBe(first);
    await first;
    expect(await stored(acct)).toEqual({ examples: 1, baseModel: base.id });

    const again = models.retrain(acct.accountId);
    await new Promise((r) => setTimeout(r, 80));
    // `again` has started: later requests must not join it (it may not see their example).
    await correct(acct, 'Thanks, the new kettle works great');
    const followUp = models.retrain(acct.accountId);
    expect(followUp).not.toBe(again);
    expect(models.retrain(acct.accountId)).toBe(followUp);
    await models.idle(acct.accountId);
    expect((await stored(acct))?.examples).toBe(2);
  });

  it('gives the account its corrected label once retrained, and other accounts the shipped one', async () => {
    const a = await createTestAccount(t);
    const b = await createTestAccount(t);
    const models = new SentimentModels(t.hub.db, () => base, { delayMs: 0 });
    await correct(a);
    expect((await models.forAccount(a.accountId)).classify(idiom).sentiment).toBe(shipped);
    await models.retrain(a.accountId);
    expect((await models.forAccount(a.accountId)).classify(idiom).sentiment).toBe(corrected);
    expect((await models.forAccount(b.accountId)).classify(idiom).sentiment).toBe(shipped);
    expect(await stored(b)).toBeUndefined();

    // Another process (a fresh cache) sees the stored residual.
    const elsewhere = new SentimentModels(t.hub.db, () => base, { delayMs: 0 });
    expect((await elsewhere.forAccount(a.accountId)).classify(idiom).sentiment).toBe(corrected);
    const info = await withAccount(t.hub.db, a.accountId, (tx) => sentimentCorrectionsInfo(tx, a.accountId, base.id));
    expect(info.corrections).toBe(1);
    expect(Date.parse(info.trainedAt!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('ignores a residual learned on another shipped model, and relearns the corrections on this one', async () => {
    const acct = await createTestAccount(t);
    await correct(acct);
    const residual = learnResidual(base, [{ text: idiom, label: corrected }]);
    await withAccount(t.hub.db, acct.accountId, (tx) =>
      tx.query(`INSERT INTO ai_sentiment_models (account_id, model, examples, base_model) VALUES ($1, $2, 1, 'sentiment-older-model')`, [acct.accountId, JSON.stringify(residual.toJSON())]));
    const models = new SentimentModels(t.hub.db, () => base, { delayMs: 0 });
    expect((await models.forAccount(acct.accountId)).classify(idiom).sentiment).toBe(shipped);
    expect((await withAccount(t.hub.db, acct.accountId, (tx) => sentimentCorrectionsInfo(tx, acct.accountId, base.id))).trainedAt).toBeNull();
    await models.idle(acct.accountId);
    expect(await stored(acct)).toEqual({ examples: 1, baseModel: base.id });
    expect((await models.forAccount(acct.accountId)).classify(idiom).sentiment).toBe(corrected);
  });
});
