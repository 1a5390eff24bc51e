import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, escapeName, escapeTruncated, oneLineName, splitMrkdwn, truncateMrkdwn } from './text.js';

describe('slack text: names', () => {
  it('a name is one line without bidi controls', () => {
    expect(oneLineName('Jane\n:white_check_mark: Sent\u202Efdp.exe\t ')).toBe('Jane :white_check_mark: Sentfdp.exe');
    expect(escapeName('A <b> & \u2066C')).toBe('A &lt;b&gt; &amp; C');
  });
});

describe('slack text: truncation never cuts a token', () => {
  it('escapes after cutting, within the limit', () => {
    const r = escapeTruncated('a&b<c>d'.repeat(10), 20);
    expect(r.truncated).toBe(true);
    expect(r.text.length).toBeLessThanOrEqual(20);
    expect(r.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    expect(escapeTruncated('a & b', 20)).toEqual({ text: 'a &amp; b', truncated: false });
  });

  it('cuts escaped mrkdwn before an entity or a link it would split', () => {
    expect(truncateMrkdwn('abc &amp; def', 7)).toEqual({ text: 'abc …', truncated: true });
    expect(truncateMrkdwn('see <https://a.example/x|the docs> now', 20)).toEqual({ text: 'see …', truncated: true });
    expect(truncateMrkdwn('<https://a.example|a> and more text', 25)).toEqual({ text: '<https://a.example|a> an…', truncated: true });
  });
});

describe('slack text: splitting a long reply', () => {
  it('splits at breaks, never inside an entity, and loses nothing', () => {
    const text = escapeMrkdwn(`${'word & <more> '.repeat(500)}\n\n${'x'.repeat(3000)}${'&'.repeat(2000)}`);
    const parts = splitMrkdwn(text, 1000);
    expect(parts.join('')).toBe(text);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(1000);
      expect(p).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect(p, 'no part starts with the rest of an entity').not.toMatch(/^(amp;|mp;|p;|lt;|gt;|t;)/);
    }
    expect(splitMrkdwn('short', 1000)).toEqual(['short']);
    expect(splitMrkdwn('', 1000)).toEqual(['']);
  });
});
