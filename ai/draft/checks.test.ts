import { beforeAll, describe, expect, it } from 'vitest';
import { languageDetector } from '../providers/local/language.js';
import { Redactor } from '../safety/redact.js';
import { draftProblems } from './checks.js';

beforeAll(async () => {
  await languageDetector();
}, 60_000);

describe('checks on a generated draft', () => {
  it('refuses a citation of a passage in another language than the customer', async () => {
    const problems = await draftProblems({
      draft: 'Hei, voit vaihtaa salasanan kirjautumissivulla kohdasta Unohtuiko salasana.', citations: ['p1', 'p2'],
      pool: [{ language: 'fi' }, { language: 'en' }], customerText: 'Unohdin salasanani', language: 'fi', redactor: new Redactor(),
    });
    expect(problems).toEqual(['/citations p2 is in en; cite only passages in fi (mention others to nobody)']);
  });

  it('passes a draft that follows the rules, and finds the email the customer gave as its placeholder', async () => {
    const redactor = new Redactor();
    redactor.redact('Ich bin anna@example.de');
    const problems = await draftProblems({
      draft: 'Hallo, es tut mir leid, dass die Bestellung 77812 noch nicht da ist. Wir schreiben Ihnen an [EMAIL_1].', citations: [],
      pool: [], customerText: 'Unverschämt! Bestellung 77812 ist immer noch nicht da. Ich bin anna@example.de', language: 'de',
      note: { reason: 'no_relevant_article', language: 'de', tone: 'apology', details: [], relevance: null, threshold: 0.36 }, redactor,
    });
    expect(problems).toEqual([]);
  });
});
