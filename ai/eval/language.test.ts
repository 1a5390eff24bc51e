import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { evalLanguage, wordBucket } from './language.js';

describe('language eval', () => {
  it('buckets by word count', () => {
    expect(['Kiitos', 'Tack så', 'Where is my order', 'I would like to change my plan', 'Please tell me when the parcel that I ordered last week will arrive'].map(wordBucket)).toEqual(['1-2', '1-2', '3-4', '5-7', '8-14']);
  });

  it('reports accuracy per bucket and the two-word cut in its JSON line', async () => {
    let text = '';
    const out = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
    const rows = [
      { text: 'Laskussani on virhe, voitteko tarkistaa sen ja korjata sen pian?', label: 'fi' },
      { text: 'Fakturan är fel, kan ni kontrollera den?', label: 'sv' },
      { text: 'Where is my parcel?', label: 'en' },
      { text: 'Where is my parcel?', label: 'fi' },
    ];
    const summary = (await evalLanguage(rows, { labels: ['fi', 'sv', 'en'] }, out)) as { by_words: Record<string, { accuracy: number; n: number }>; accuracy: number };
    expect(summary.by_words['3-4']).toEqual({ accuracy: 0.5, n: 2 });
    expect(summary.by_words['8-14']).toEqual({ accuracy: 1, n: 1 });
    expect(summary.accuracy).toBe(0.75);
    expect(JSON.parse(text.trim().split('\n').pop()!)).toMatchObject({ eval: 'language', n: 4, two_word_accuracy: expect.any(Number) });
  });
});
