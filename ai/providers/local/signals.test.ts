import { describe, expect, it } from 'vitest';
import { detectLanguage } from './language.js';
import { SentimentModel } from './sentiment.js';
import { decidePriority } from './priority.js';
import { chunkMarkdown } from '../../kb/chunk.js';
import { normalizedEditDistance } from '../../feedback/stats.js';
import { parseCsv } from '../../eval/csv.js';

describe('language', () => {
  it('identifies the languages we serve and folds Norwegian onto nb', async () => {
    expect((await detectLanguage('Laskussani on virhe, voitteko tarkistaa sen?'))?.language).toBe('fi');
    expect((await detectLanguage('Fakturan är fel, kan ni kontrollera den?'))?.language).toBe('sv');
    expect((await detectLanguage('Jeg har ikke fått pakken min ennå, kan dere sjekke?'))?.language).toBe('nb');
    expect(await detectLanguage('12345 !!!')).toBeUndefined();
  });

  it("prefers the account's languages on short text", async () => {
    expect((await detectLanguage('Tack så mycket', ['sv', 'fi']))?.language).toBe('sv');
  });
});

describe('sentiment (committed learned model)', () => {
  const model = SentimentModel.fromFile();
  it('tells negative, neutral and positive apart', () => {
    expect(model.classify('This is terrible, I am so angry and disappointed').sentiment).toBe('negative');
    expect(model.classify('Thank you so much, you were very helpful, great service!').sentiment).toBe('positive');
    expect(model.classify('Olen todella pettynyt, tämä on surkeaa').sentiment).toBe('negative');
  });
});

describe('priority rule', () => {
  it('escalates urgency cues with negative sentiment and keeps thanks low', () => {
    expect(decidePriority('URGENT: our whole shop is down, outage!', { sentiment: 'negative', confidence: 0.9 }, 'technical').priority).toBe('urgent');
    expect(decidePriority('Please answer asap', { sentiment: 'neutral', confidence: 0.8 }, 'general').priority).toBe('high');
    expect(decidePriority('I was charged twice!', { sentiment: 'negative', confidence: 0.7 }, 'billing').priority).toBe('high');
    expect(decidePriority('Thanks, that worked', { sentiment: 'positive', confidence: 0.9 }, 'general').priority).toBe('low');
    expect(decidePriority('What are your hours?', { sentiment: 'neutral', confidence: 0.9 }, 'general').priority).toBe('normal');
  });
});

describe('knowledge-base chunking', () => {
  it('splits markdown under its headings', () => {
    const parts = chunkMarkdown('Guide', '# Install\n\nRun the installer.\n\n## Update\n\nClick **update**.');
    expect(parts.map((p) => [p.heading, p.text])).toEqual([['Install', 'Run the installer.'], ['Update', 'Click update.']]);
  });
});

describe('helpers', () => {
  it('measures edit distance and reads quoted CSV', () => {
    expect(normalizedEditDistance('abc', 'abc')).toBe(0);
    expect(normalizedEditDistance('abcd', 'abxd')).toBe(0.25);
    expect(parseCsv('text,label\n"a, ""b""",x\r\nc,y\n')).toEqual([{ text: 'a, "b"', label: 'x' }, { text: 'c', label: 'y' }]);
  });
});
