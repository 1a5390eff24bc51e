import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { runEval } from './command.js';

const sink = () => {
  let text = '';
  return { out: new Writable({ write(chunk, _e, cb) { text += String(chunk); cb(); } }), text: () => text };
};

describe('hummdesk eval draft', () => {
  it('reports draft language accuracy, citation precision and recall and "none" questions cited; the last line is one JSON object', async () => {
    const s = sink();
    const code = await runEval(['draft', 'ai/eval/drafts/dev.csv', '--limit', '12'], s.out);
    expect(code).toBe(0);
    const last = JSON.parse(s.text().trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ eval: 'draft', n: 12 });
    for (const k of ['language_accuracy', 'citation_precision', 'citation_recall', 'none_cited_rate', 'threshold']) expect(typeof last[k]).toBe('number');
    expect(last.by_language.en.n).toBe(12);
  }, 120_000);
});
