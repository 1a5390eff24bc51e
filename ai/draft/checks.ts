import { detectLanguage } from '../providers/local/language.js';
import type { DraftNote } from './compose.js';
import { detailsGiven, isThankYou } from './signals.js';

// An apology or acknowledgement in each draft language, looked for in a generated draft's opening.
const ACKNOWLEDGES: Record<string, RegExp> = {
  en: /sorry|apolog|understand|unfortunately|regret/i,
  fi: /pahoit|valitettava|ymmärrä|harmi|anteeksi/i,
  sv: /beklag|ledsen|förstår|tyvärr|ursäkt/i,
  da: /beklag|ked af|forstår|desværre|undskyld/i,
  nb: /beklag|lei for|forstår|dessverre|unnskyld/i,
  de: /leid|entschuldig|bedauer|verstehe|leider/i,
};

export interface GeneratedDraft {
  draft: string;
  /** `p1`, `p2`, … into `pool`. */
  citations: string[];
  pool: { language: string }[];
  /** The customer's newest message, as they wrote it. */
  customerText: string;
  /** The customer's language (the local detection). */
  language: string | undefined;
  /** The local draft's note: its tone is the tone a generated draft must have. */
  note?: DraftNote;
  /** What was redacted before the model saw the text: details the customer gave appear as placeholders. */
  redactor: { redact(text: string): string };
}

/**
 * What is wrong with a model's draft, by the rules offline drafts follow: it is in the customer's
 * language, cites only passages in that language, opens with an apology or acknowledgement when the
 * customer is upset or the matter urgent, and repeats back the order, invoice and case numbers and
 * email address the customer gave. Empty when it passes; the problems go back to the model.
 */
export async function draftProblems(g: GeneratedDraft): Promise<string[]> {
  const problems: string[] = [];
  const lang = g.language;
  if (lang) {
    const words = g.draft.replace(/\[[A-Z]+_\d+\]/g, ' ').split(/\s+/).filter(Boolean).length;
    const seen = words >= 4 ? (await detectLanguage(g.draft.replace(/\[[A-Z]+_\d+\]/g, ' ')))?.language : undefined;
    if (seen && seen !== lang) problems.push(`/draft is in ${seen}; write it in the customer's language (${lang})`);
    for (const id of g.citations) {
      const p = g.pool[Number(id.slice(1)) - 1];
      if (!p) problems.push(`/citations ${id} is not a passage you were given`);
      else if (p.language !== lang) problems.push(`/citations ${id} is in ${p.language}; cite only passages in ${lang} (mention others to nobody)`);
    }
    const ack = ACKNOWLEDGES[lang];
    const opening = g.draft.split(/(?<=[.!?])\s+/).slice(0, 3).join(' ');
    if (ack && (g.note?.tone === 'apology' || g.note?.tone === 'urgent') && !isThankYou(g.customerText) && !ack.test(opening))
      problems.push('/draft must open with an apology or an acknowledgement: the customer is upset or the matter is urgent');
  }
  for (const d of detailsGiven(g.customerText)) {
    const as = g.redactor.redact(d.value);
    if (!g.draft.includes(d.value) && !g.draft.includes(as)) problems.push(`/draft does not repeat the ${d.kind} the customer gave (${as}); refer to it and do not ask for it`);
  }
  return problems;
}
