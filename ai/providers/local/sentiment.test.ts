import { describe, expect, it } from 'vitest';
import { hashFeatures } from '../../text/features.js';
import { SENTIMENT_FEATURES, SentimentModel } from './sentiment.js';

describe('sentiment model (committed)', () => {
  const model = SentimentModel.fromFile();

  it('reads a negated word as its own feature in the languages it was trained on', () => {
    for (const [plain, negated] of [['The service was good', 'The service was not good'], ['Palvelu oli hyvä', 'Palvelu ei ollut hyvä'], ['Tjänsten var bra', 'Tjänsten var inte bra']]) {
      expect(model.classify(plain!).sentiment).toBe('positive');
      expect(model.classify(negated!).sentiment).toBe('negative');
    }
  });

  it('hashes text without a negator or emoji exactly as without those options', () => {
    const plain = { ...SENTIMENT_FEATURES, negation: false, emoji: false };
    const a = hashFeatures('Where is my order?', SENTIMENT_FEATURES);
    const b = hashFeatures('Where is my order?', plain);
    expect([...a.idx]).toEqual([...b.idx]);
    expect(hashFeatures('thanks 😡', SENTIMENT_FEATURES).idx.length).toBe(hashFeatures('thanks', SENTIMENT_FEATURES).idx.length + 1);
  });

  it('answers from its n-grams alone and stays small', () => {
    expect(model.usesEmbedding).toBe(false);
    expect(model.classify('Where is my order?', new Float32Array(512)).probs).toEqual(model.classify('Where is my order?').probs);
  });
});
