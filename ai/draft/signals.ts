/** What a customer's message says about how to answer it: a thank-you, anger, details already given. */

// Thanks in the draft languages (and a few more); matched on word starts.
const THANKS = /(^|[^\p{L}])(thanks|thank you|thx|cheers|kiitos|kiitti|kiitoksia|tack|tak|takk|danke|vielen dank|merci|gracias|grazie|obrigad)/iu;
// Words that turn a thank-you into a report of a problem ("thanks, but it still fails").
const BUT = /(^|[^\p{L}])(but|still|however|not|doesn't|don't|didn't|isn't|won't|can't|cannot|mutta|vielä|kuitenkaan|ei|eikä|men|fortfarande|inte|ändå|stadig|ikke|fortsatt|aber|immer noch|noch|nicht|kein|keine)(?![\p{L}])/iu;

// Asking for something, with thanks only as courtesy ("Avsluta mitt medlemskap tack", "Please cancel it, thanks"):
// a polite request phrase anywhere, or the message opening with a request verb (the imperative comes first).
const REQUESTS = new RegExp([
  'please', 'pls', 'could you', 'can you', 'would you', 'i want', 'i would like', "i'd like", 'i need',
  'voisitteko', 'voisitko', 'voitteko', 'haluan', 'haluaisin', 'tarvitsen', 'pyydän',
  'snälla', 'kan ni', 'kan du', 'jag vill', 'jag skulle vilja', 'jag behöver',
  'venligst', 'kan i ', 'jeg vil gerne', 'jeg har brug for', 'vennligst', 'kan dere', 'jeg vil ha', 'jeg trenger',
  'bitte', 'können sie', 'könnten sie', 'kannst du', 'ich möchte', 'ich will', 'ich brauche',
].map((w) => `(^|[^\\p{L}])${w}`).join('|'), 'iu');
const REQUEST_FIRST = new RegExp('^[^\\p{L}]*(' + [
  'cancel', 'change', 'send', 'refund', 'delete', 'close', 'stop', 'update', 'reset', 'remove',
  'peru', 'lopet', 'vaihda', 'vaihtakaa', 'lähettäkää', 'lähetä', 'poista', 'sulje', 'palauta',
  'avsluta', 'avbryt', 'säg upp', 'ändra', 'skicka', 'ta bort', 'radera',
  'opsig', 'annuller', 'slet', 'si opp', 'avbestill', 'endre', 'slett',
  'kündig', 'storn', 'ändern', 'schicken', 'senden', 'löschen',
].join('|') + ')', 'iu');

/** A message that only thanks (no question, no request, no remaining problem): it gets a short thanks back. */
export function isThankYou(text: string): boolean {
  const t = text.trim();
  if (!THANKS.test(t) || t.includes('?')) return false;
  if (t.split(/\s+/).length > 14) return false;
  const rest = t.replace(THANKS, ' ');
  return !BUT.test(rest) && !REQUESTS.test(rest) && !REQUEST_FIRST.test(rest);
}

// Anger and complaint cues, so an apology does not hang on the sentiment model alone.
const UPSET = new RegExp([
  'unacceptable', 'furious', 'angry', 'outrage', 'ridiculous', 'disgrace', 'terrible', 'horrible', 'awful', 'worst', 'scam', 'fed up', 'sick of',
  'disappointed', 'never arrived', 'still waiting', 'still not', 'nobody (called|answered|replied)', 'no one (called|answered|replied)', 'complain',
  'ei kelpaa', 'törkeä', 'törkeää', 'raivo', 'vihainen', 'pettynyt', 'surkea', 'kamala', 'huijaus', 'ei ole vieläkään', 'vieläkään', 'valitus',
  'oacceptabel', 'arg(?!\\p{L})', 'rasande', 'besviken', 'skandal', 'värdelös', 'bedrägeri', 'fortfarande inte', 'klagomål',
  'uacceptabel', 'vred(?!\\p{L})', 'skuffet', 'elendig', 'svindel', 'stadig ikke', 'klage',
  'uakseptabelt', 'sint(?!\\p{L})', 'skuffa', 'fortsatt ikke',
  'inakzeptabel', 'unverschämt', 'wütend', 'verärgert', 'enttäuscht', 'katastrophe', 'betrug', 'frechheit', 'immer noch nicht', 'beschwerde',
].map((w) => `(^|[^\\p{L}])${w}`).join('|'), 'iu');

/** A message with anger or a complaint in its words, whatever the sentiment model read. */
export function soundsUpset(text: string): boolean {
  return UPSET.test(text) || /!{2,}/.test(text) || /\b[A-ZÄÖÅ]{5,}\b.*\b[A-ZÄÖÅ]{4,}\b/u.test(text);
}

export type DetailKind = 'order' | 'invoice' | 'ticket' | 'email';
export interface Detail {
  kind: DetailKind;
  value: string;
}

// "order 48213", "order #48213", "tilausnumero 48213", "Bestellnummer: 48213", "#48213"
const ORDER = /(?:order|ordre|tilau\p{L}*|beställning\p{L}*|bestilling\p{L}*|bestellung\p{L}*|bestellnummer|ordernummer|ordrenummer|order number|order no\.?)\s*(?:number|no\.?|nr\.?|nro\.?|#|:)?\s*#?\s*([A-Z]{0,4}-?\d[\d-]{3,})/giu;
const INVOICE = /(?:invoice|lasku\p{L}*|faktura\p{L}*|rechnung\p{L}*|rechnungsnummer)\s*(?:number|no\.?|nr\.?|nro\.?|#|:)?\s*#?\s*([A-Z]{0,4}-?\d[\d-]{2,})|\b(INV-?\d{3,})\b/giu;
const TICKET = /(?:ticket|case|tiketti|ärende|sag|sak|vorgang|ticketnummer)\s*(?:number|no\.?|nr\.?|#|:)?\s*#?\s*([A-Z]{0,4}-?\d{3,})/giu;
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/gu;
const BARE_HASH = /(?:^|\s)#(\d{4,})\b/g;

/** Order, invoice and case numbers and email addresses the customer already gave, each once, in order of kind. */
export function detailsGiven(text: string): Detail[] {
  const out: Detail[] = [];
  const add = (kind: DetailKind, value: string | undefined) => {
    if (value && !out.some((d) => d.value === value)) out.push({ kind, value });
  };
  for (const m of text.matchAll(INVOICE)) add('invoice', m[1] ?? m[2]);
  for (const m of text.matchAll(ORDER)) add('order', m[1]);
  for (const m of text.matchAll(TICKET)) add('ticket', m[1]);
  for (const m of text.matchAll(BARE_HASH)) add('order', m[1]);
  for (const m of text.matchAll(EMAIL)) add('email', m[0]);
  const rank: Record<DetailKind, number> = { order: 0, invoice: 1, ticket: 2, email: 3 };
  return out.sort((a, b) => rank[a.kind] - rank[b.kind]);
}

// A sentence that asks for a detail of a kind ("reply with your order number", "lähetä tilausnumerosi").
const ASKS: Record<DetailKind, RegExp> = {
  order: /(order ?number|tilausnumero|ordernummer|ordrenummer|bestellnummer|order number)/iu,
  invoice: /(invoice number|laskun numero|fakturanummer|rechnungsnummer)/iu,
  ticket: /(ticket number|case number|ärendenummer|sagsnummer|vorgangsnummer)/iu,
  email: /(email address|e-mail address|sähköpostiosoit|e-postadress|e-mailadresse|e-postadresse|e-mail-adresse)/iu,
};
const ASK_VERB = /(reply|send|tell|give|include|provide|lähetä|kerro|ilmoita|svara|skicka|ange|uppge|send|oplys|angi|senden|nennen|teilen sie|geben sie|schicken)/iu;

/** The passage without sentences that ask for a detail the customer already gave. */
export function withoutAsksFor(passage: string, given: Detail[]): string {
  if (!given.length) return passage;
  const kinds = new Set(given.map((d) => d.kind));
  const sentences = passage.match(/[^.!?]+[.!?]*\s*/g) ?? [passage];
  const kept = sentences.filter((s) => !(ASK_VERB.test(s) && [...kinds].some((k) => ASKS[k].test(s))));
  return (kept.length ? kept.join('') : passage).trim();
}
