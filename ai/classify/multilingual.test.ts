import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readRows } from '../eval/csv.js';
import { localEmbedder } from '../embed/local.js';
import { conceptsOf } from '../text/concepts.js';
import { words } from '../text/features.js';
import { CategoryModel, LEGACY_CATEGORY_FEATURES, UNKNOWN } from './model.js';
import { defaultExamples } from './store.js';
import { cachedDefaultVectors } from './default-vectors.js';

describe('multilingual categories', () => {
  it('names one concept for the inflected and compounded words of every language', () => {
    for (const text of ['I forgot my password', 'Unohdin salasanani', 'Jag har glömt lösenordet', 'Die Passwortänderung klappt nicht', 'Jeg har glemt adgangskoden', 'Jeg har glemt passordet mitt'])
      expect(conceptsOf(words(text)), text).toContain('password');
    expect(conceptsOf(words('Kreditkartenrechnung'))).toContain('invoice');
    expect(conceptsOf(words('What are your opening hours?'))).not.toContain('password');
  });

  // Seen in issue #15: Finnish and Swedish messages mostly came out `unknown`. The dev set (ai/eval/data) is the team's
  // own, ≥ 30 messages per language; the default categories must name ≥ 0.85 of each language right, threshold included.
  it('classifies the dev set with the default categories at ≥ 0.85 in each of en, fi, sv, de', async () => {
    const embedder = localEmbedder();
    const examples = defaultExamples();
    const model = await CategoryModel.train(examples, { embedder, vectors: await cachedDefaultVectors(embedder, examples.map((e) => e.text)) });
    const rows = readRows(fileURLToPath(new URL('../eval/data/categories-dev.csv', import.meta.url)));
    const vectors = await embedder.embed(rows.map((r) => r.text!));
    const predicted = rows.map((r, i) => model.classifyWith(r.text!, vectors[i]).category);
    for (const lang of ['en', 'fi', 'sv', 'de']) {
      const mine = rows.map((r, i) => ({ r, p: predicted[i] })).filter(({ r }) => r.lang === lang);
      expect(mine.length).toBeGreaterThanOrEqual(30);
      expect(mine.filter(({ r, p }) => p === r.label).length / mine.length, lang).toBeGreaterThanOrEqual(0.85);
      expect(mine.filter(({ p }) => p === UNKNOWN).length / mine.length, lang).toBeLessThan(0.15);
    }
  }, 120_000);

  it("learns an account's own examples in any language", async () => {
    const own = ['Takuu ei kata rikkoutunutta näyttöä?', 'Kuinka pitkä takuu laitteella on?', 'Haluan tehdä takuuvaatimuksen', 'Onko takuu voimassa vielä?', 'Takuukorjaus kestää liian kauan'];
    const embedder = localEmbedder();
    const examples = [...defaultExamples(), ...own.map((text) => ({ text, label: 'warranty' }))];
    const known = await cachedDefaultVectors(embedder, defaultExamples().map((e) => e.text));
    const model = await CategoryModel.train(examples, { embedder, vectors: [...known, ...(await embedder.embed(own))] });
    expect((await model.classify('Kattaako takuu akun vaihdon?')).best).toBe('warranty');
  }, 120_000);

  it('reads a model stored before the concepts with the features it was trained on', async () => {
    const model = await CategoryModel.train([{ text: 'invoice wrong', label: 'billing' }, { text: 'app crashes', label: 'technical' }]);
    const { features: _features, ...legacy } = model.toJSON();
    expect(CategoryModel.fromJSON(legacy).features).toEqual(LEGACY_CATEGORY_FEATURES);
    expect(CategoryModel.fromJSON(model.toJSON()).features).toEqual(model.features);
  });
});
