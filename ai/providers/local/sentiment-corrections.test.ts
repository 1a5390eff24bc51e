import { describe, expect, it } from 'vitest';
import { SentimentModel } from './sentiment.js';
import { learnResidual, SentimentResidual } from './sentiment-corrections.js';

describe("an account's sentiment corrections", () => {
  const base = SentimentModel.fromFile();
  // A support-desk idiom the shipped model reads as neutral: the agent says it is a complaint.
  const idiom = 'Order 4411 arrived as a box of bricks';

  it('give a corrected message its label back, and survive serialisation', () => {
    const before = base.classify(idiom).sentiment;
    const label = before === 'negative' ? 'positive' : 'negative';
    const refined = base.withResidual(learnResidual(base, [{ text: idiom, label }]));
    expect(refined.classify(idiom).sentiment).toBe(label);
    // Case, spacing and digits do not make it a different message.
    expect(refined.classify('order 9  ARRIVED as a box of bricks').sentiment).toBe(label);
    const json = JSON.parse(JSON.stringify(learnResidual(base, [{ text: idiom, label }]).toJSON()));
    expect(base.withResidual(SentimentResidual.fromJSON(json)).classify(idiom).sentiment).toBe(label);
  });

  it('move similar messages towards the label without overriding clear ones', () => {
    const corrections = ['parcel arrived as a box of bricks', 'my parcel arrived as a brick', 'parcel came as a box of bricks again'].map((text) => ({ text, label: 'negative' as const }));
    const refined = base.withResidual(learnResidual(base, corrections));
    const probe = 'the parcel arrived as bricks';
    expect(refined.classify(probe).probs.negative).toBeGreaterThan(base.classify(probe).probs.negative);
    expect(refined.classify('Thank you so much, you were very helpful, great service!').sentiment).toBe('positive');
  });

  it('leave the model as shipped without corrections', () => {
    const r = learnResidual(base, []);
    expect(base.withResidual(r).classify(idiom)).toEqual(base.classify(idiom));
  });
});
