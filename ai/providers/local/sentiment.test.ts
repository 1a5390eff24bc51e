import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRows } from '../../eval/csv.js';
import { hashFeatures, words } from '../../text/features.js';
import { isRequestOrQuestion } from '../../text/concepts.js';
import { corpusDir, customerRequests, hashSplit } from '../../train/sentiment-data.js';
import { SENTIMENT_FEATURES, SentimentModel } from './sentiment.js';

const corpus = corpusDir();
if (!corpus) console.warn('SKIPPED: Bitext plain requests not found (set HUMMDESK_CORPUS_DIR or put shared/data beside the repo)');

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

  // Our own hand-written messages (fixtures/customer-messages.csv), not a benchmark: a guard against a retrain that loses the domain.
  it('reads plain customer requests as neutral, complaints as negative and thanks as positive', () => {
    const rows = readRows(fileURLToPath(new URL('./fixtures/customer-messages.csv', import.meta.url)));
    const right = (lang: string) => rows.filter((r) => r.lang === lang && model.classify(r.text!).sentiment === r.label).length / rows.filter((r) => r.lang === lang).length;
    expect(right('en')).toBeGreaterThanOrEqual(0.9);
    expect(right('fi')).toBeGreaterThanOrEqual(0.85);
    // Swedish has no public neutral sentiment data: 20 of 24 today, with the team's own messages (ai/train/data).
    expect(right('sv')).toBeGreaterThanOrEqual(0.75);
  });

  // Seen in issue #15: neutral Swedish messages read positive 3 of 3; Finnish ones the same way.
  it('does not read Swedish or Finnish plain requests as positive, thanks at the end or not', () => {
    for (const text of ['Hej, har ni presentkort? Tack!', 'Hej! Jag undrar hur jag byter lösenord. Tack på förhand', 'Kan ni skicka fakturan igen? Tack så mycket',
      'Hei, onko teillä lahjakortteja? Kiitos!', 'Voisitteko lisätä kollegani pääkäyttäjäksi? Kiitos jo etukäteen.', 'Milloin tilaukseni lähtee? Kiitos',
      // A Finnish polite imperative asks without a request word (read positive before v6's rule).
      'Toimittakaa paketti naapurille, kiitos.', 'Hei, muuttakaa toimitusosoite, kiitos!'])
      expect(model.classify(text).sentiment, text).not.toBe('positive');
    expect(model.classify('Tack så mycket för att ni löste det så snabbt!').sentiment).toBe('positive');
    expect(model.classify('Kiitos nopeasta avusta!').sentiment).toBe('positive');
    expect(model.classify('Your colleague was lovely, please pass on my thanks.').sentiment).toBe('positive');
  });

  // Seen in issue #15: calm reports of a failure or delay read neutral (negative recall 0.32).
  it('reads calm problem reports as negative', () => {
    for (const text of ['My flight was cancelled and nobody called', 'Still waiting for the refund', 'Jag väntar fortfarande på paketet', 'Lentoni peruttiin eikä kukaan soittanut', 'Hyvitys ei ole vieläkään tullut tilille'])
      expect(model.classify(text).sentiment, text).toBe('negative');
  });

  // The team's held-out support messages (ai/eval/data), never trained on: the targets, as a guard.
  it('meets the support targets on the held-out support messages', () => {
    const rows = readRows(fileURLToPath(new URL('../../eval/data/sentiment-support-heldout.csv', import.meta.url)));
    const recall = (label: string) => rows.filter((r) => r.label === label && model.classify(r.text!).sentiment === label).length / rows.filter((r) => r.label === label).length;
    const balanced = (recall('negative') + recall('neutral') + recall('positive')) / 3;
    expect(balanced).toBeGreaterThanOrEqual(0.75);
    expect(recall('neutral')).toBeGreaterThanOrEqual(0.85);
    // The issue's target (0.875 with v5's calibration; v4 had 0.625).
    expect(recall('negative')).toBeGreaterThanOrEqual(0.7);
  });

  // Issue #15: calm statements of what went wrong, with no problem word, read neutral (or positive) before v5's calibration.
  it('reads a calm statement of what went wrong as negative, while requests and questions stay neutral', () => {
    for (const text of ['The lamp I ordered arrived without a plug.', 'The app shows my old address after I changed it.', 'Die Monatsgebühr ist ohne Ankündigung gestiegen.'])
      expect(model.classify(text).sentiment, text).toBe('negative');
    for (const text of ['Can I change my plan to the cheaper one?', 'Please send me the invoice as PDF.', 'Voinko maksaa laskun osissa?', 'Skicka fakturan som PDF, tack.', 'Hur ändrar jag min adress', 'Ich möchte meine Adresse ändern.'])
      expect(model.classify(text).sentiment, text).toBe('neutral');
    expect(model.calibration.negative).toBeGreaterThan(0);
  });

  // Issue #15 target: plain requests stay ≥ 0.85 neutral. v5 read Bitext's held-out tenth 0.744 neutral:
  // requests to cancel, delete, unsubscribe or reach a person read negative by their topic words.
  it.skipIf(!corpus)("reads Bitext's held-out plain requests as neutral at least 0.85 of the time", () => {
    const held = customerRequests(corpus!).filter((r) => hashSplit(r.text) === 'test');
    expect(held.length).toBeGreaterThan(700);
    expect(held.filter((r) => model.classify(r.text).sentiment === 'neutral').length / held.length).toBeGreaterThanOrEqual(0.85);
  });

  it('reads a plain request to cancel, close, delete, unsubscribe or reach a person as neutral, and the failure on the same topic as negative', () => {
    // Written for this test, none of them in the training data.
    for (const text of ['Please cancel my gym membership from next month.', 'How do I remove my account and my data?', 'Take me off the newsletter list, please.', 'I want to talk to an actual person about the contract.',
      'Haluan lopettaa kuntosalijäsenyyden ensi kuusta.', 'Jag vill säga upp gymkortet från nästa månad.', 'Ich möchte mein Fitnessstudio-Abo zum nächsten Monat kündigen.'])
      expect(model.classify(text).sentiment, text).toBe('neutral');
    for (const text of ['I cancelled the membership in May and you charged me again in June.', 'Jag sa upp gymkortet i maj men ni drog pengar igen i juni.', 'Ich habe das Abo im Mai gekündigt und Sie buchen trotzdem weiter ab.'])
      expect(model.classify(text).sentiment, text).toBe('negative');
  });

  // Positive is thanks or praise: plain Swedish questions read positive on the support dev set before this rule.
  it('does not read a question or request without thanks or praise as positive', () => {
    for (const text of ['Finns det parkering vid butiken i Kista?', 'Var hittar jag bruksanvisningen för modell X200?'])
      expect(model.classify(text).sentiment, text).toBe('neutral');
    expect(model.classify('Could you tell Anna she was wonderful?').sentiment).toBe('positive');
  });

  it('tells requests and questions from statements in every served language', () => {
    const asks = (t: string) => isRequestOrQuestion(t, words(t));
    for (const t of ['Hur ändrar jag min adress', 'Wie lade ich die Rechnung herunter', 'Please send the PDF.', 'Voisitteko lähettää laskun', 'I do not know how to cancel my order', 'Help with my refund', 'Kan jeg betale med kort',
      "I don't know what to do to change my plan", 'how to add a second user', 'En tiedä mitä teen vaihtaakseni liittymän', 'Vet inte vad jag ska göra för att byta plan', 'Ich weiß nicht, was ich für den Tarifwechsel tun muss'])
      expect(asks(t), t).toBe(true);
    for (const t of ['The tablet stopped charging.', 'Paketet var trasigt när det kom fram.', 'Der Techniker ist nicht gekommen.', 'Paketti tuli rikki.'])
      expect(asks(t), t).toBe(false);
  });

  it('gives words of a listed valence the same features in every language', () => {
    const f = (text: string) => new Set(hashFeatures(text, SENTIMENT_FEATURES).idx);
    const shared = (a: string, b: string) => [...f(a)].filter((i) => f(b).has(i)).length;
    // "terrible" (en) and "dålig" (sv) share no n-gram but both carry a listed valence of -3.
    expect(shared('terrible', 'dålig')).toBeGreaterThan(0);
    expect(shared('terrible', 'lampa')).toBe(0);
  });

  it('refuses to load with word lists other than those it was trained with', () => {
    const file = JSON.parse(readFileSync(fileURLToPath(new URL('../../models/sentiment.json', import.meta.url)), 'utf8')) as { lexicon?: string };
    const path = join(mkdtempSync(join(tmpdir(), 'hd-sentiment-')), 'sentiment.json');
    writeFileSync(path, JSON.stringify({ ...file, lexicon: '0000000000000000' }));
    expect(() => SentimentModel.fromFile(path)).toThrow(/trained with word lists 0000000000000000/);
  });

  it('answers from its n-grams alone and stays small', () => {
    expect(model.usesEmbedding).toBe(false);
    expect(model.classify('Where is my order?', new Float32Array(512)).probs).toEqual(model.classify('Where is my order?').probs);
  });
});
