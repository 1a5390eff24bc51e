/**
 * Words of one meaning in support questions and help articles, in the draft languages (en, fi, sv, de, da,
 * nb): a customer writes "end my membership", the article says "cancel your subscription"; "Lopettakaa
 * jäsenyyteni" against "Tilauksen peruuttaminen". The citation gate (gate.ts) counts the senses a message
 * shares with a passage as one of its signals, beside the words they share as written.
 *
 * Kept apart from the classifier's concept lexicon (ai/text/concepts.ts): these groups are narrower (what an
 * article answers, not what a message is about) and changing them must not retrain categories.
 *
 * Entry syntax as in concepts.ts: a stem of five or more letters matches anywhere inside a word (compounds:
 * "kuukausitilaus", "Kreditkartenabrechnung"); a shorter one only at a word's start; one ending in "=" only
 * the whole word; one with a space is a phrase, matched on word boundaries, where "…" stands for up to three
 * words and each word of a phrase with "…" is a word start ("schick … zurück": "schicke ich eine Jacke zurück");
 * one starting with "^" only at a word's start, however long ("^betal": "betala", not "återbetalning").
 * Left out on purpose: words most articles have whatever they answer (pay, order, email, days).
 */
import { words } from '../text/features.js';
import { READ_IN_CONTEXT } from './sense-context.js';

export const SENSES: Record<string, string[]> = {
  // Ending an agreement.
  cancel: [
    'cancel', 'terminate', 'end=', 'stop=', 'quit=', 'unsubscribe',
    'peruu', 'peruut', 'perua', 'perut', 'lopet', 'irtisan',
    'säga upp', 'säger upp', 'sade upp', 'sa upp', 'uppsäg', 'avsluta',
    'kündig', 'beend', 'storn', 'aufhör',
    'opsig', 'opsag', 'afslut', 'si opp', 'sier opp', 'avslutt',
  ],
  // What is ended: a recurring plan.
  subscription: [
    'subscription', 'membership', 'plan=', 'plans=', 'monthly',
    'jäsen', 'kuukausitilau', 'kestotilau', 'kuukausimaksu',
    'abonnemang', 'prenumer', 'medlemskap', 'månadsplan', 'månadsavgift',
    'abo=', 'abos=', 'abonnement', 'mitgliedschaft', 'monatsplan', 'monatsabo', 'tarif=', 'vertrag',
    'medlemskab', 'månedlig',
  ],
  // Money taken.
  charge: [
    'charge', 'charging', 'billed', 'bill me', 'debit', 'take the payment', 'took the payment', 'taken the payment', 'took my money', 'taken my money',
    'veloit', 'kaksoisveloit',
    'debiter', 'dragit', 'drog pengar', 'dra pengar', 'dubbeldebit',
    'abbuch', 'abgebucht', 'berechnet', 'belastet',
    'trukket', 'opkræv', 'belastet',
  ],
  // The same thing twice.
  twice: [
    'twice', 'double', 'duplicate', 'two identical', 'same payment', 'same charge',
    'kahdesti', 'kaksi kertaa', 'kahteen kertaan', 'kaksoisveloit', 'kaksi samanlaista', 'saman maksun',
    'två gånger', 'dubbel', 'två likadana', 'samma betalning',
    'zweimal', 'doppel', 'zwei identische', 'dieselbe zahlung',
    'to gange', 'to ganger', 'dobbelt',
  ],
  // Sending goods back.
  return: [
    'return', 'send … back', 'sent … back', 'take … back', 'exchange', 'doesn\'t fit', 'does not fit', 'wrong size',
    // Not "palautus" alone: "salasanan palautus(viesti)" is a password reset.
    'palautan', 'palauttaa', 'palauttaisin', 'palautin', 'palautuk', 'vaihtaa koko', 'väärä koko',
    'returner', 'retur=', 'returer=', 'returen', 'skick … tillbaka', 'lämn … tillbaka', 'byta storlek', 'fel storlek',
    'zurückschick', 'zurückgeschickt', 'zurücksend', 'zurückgesendet', 'zurückgeb', 'rücksend', 'rückgabe', 'retour', 'umtausch',
    'schick … zurück', 'geb … zurück', 'send … zurück', 'passt nicht', 'nicht passt', 'falsche größe',
    'send … tilbage', 'send … tilbake',
  ],
  // Paying: how or with what (a question about paying by invoice is not one about the invoice).
  pay: [
    'pay=', 'pays=', 'paying', 'paid', 'payment', 'paypal', 'klarna',
    'maksaa', 'maksan', 'maksu', 'maksoin', 'maksettu', 'maksetaan', 'maksetun', 'maksaisin', 'maksamaan',
    '^betal',
    'bezahl', 'zahlen', 'zahlung', 'gezahlt',
  ],
  // Money given back.
  refund: [
    'refund', 'money back', 'reimburs', 'my money',
    'hyvit', 'rahat takaisin', 'rahani', 'rahojen',
    'återbetal', 'pengarna', 'pengar tillbaka',
    'erstatt', 'rückerstatt', 'geld zurück', 'mein geld', 'mein geld zurück',
    'refunder', 'refusjon', 'pengene',
  ],
  password: ['password', 'passcode', 'salasan', 'lösenord', 'passwort', 'kennwort', 'adgangskode', 'kodeord', 'passord'],
  // Getting into the account.
  login: [
    'log in', 'login', 'log into', 'logged in', 'sign in', 'signin', 'sign-in', 'locked out', 'get into', 'access my account',
    'kirjaut', 'kirjaud', 'pääse … tilille', 'pääsen … tilille', 'pääsy', 'tililleni', 'sisään',
    'logga in', 'inlogg', 'komm … in på', 'utelåst',
    'anmeld', 'einlogg', 'angemeldet', 'komm … in mein', 'ausgesperrt', 'zugang',
    'logge ind', 'logge inn', 'innlogg',
  ],
  forgot: ['forgot', 'forgotten', 'unoh', 'unoht', 'glömt', 'glömde', 'glömma', 'vergessen', 'vergaß', 'glemt', 'glemte'],
  address: [
    'address', 'relocat', 'moved house', 'new home',
    'osoit', 'muutin', 'muutimme',
    'adress', 'flyttat', 'flyttade',
    'adresse', 'umgezogen', 'umzug',
    'flyttet', 'flyttede',
  ],
  invoice: [
    'invoice', 'receipt', 'billing',
    'lasku', 'kuitti', 'kuitin',
    'faktur', 'kvitto',
    'rechnung', 'beleg', 'quittung',
    'kvittering',
  ],
  // A business's tax or registration number on its invoices.
  taxId: [
    'vat=', 'vat number', 'vat id', 'tax id', 'tax number', 'company number', 'business id',
    'y-tunnus', 'ytunnus', 'alv=', 'alv-numer', 'alv-tunn',
    'moms', 'organisationsnummer', 'orgnr',
    'umsatzsteuer', 'ust-id', 'ustid', 'ust-idnr', 'mwst', 'steuernummer',
    'cvr', 'mva=', 'organisasjonsnummer',
  ],
  // A business customer, not a consumer.
  company: [
    'company', 'business customer', 'business account', 'our business', 'corporate',
    'yritys', 'yrityks', 'yritykse', 'firma',
    'företag', 'bolag',
    'unternehmen', 'geschäftskund', 'firmenkund',
    'virksomhed', 'bedrift',
  ],
  copy: ['copy', 'download', 'pdf', 'kopio', 'ladat', 'lataa', 'kopia', 'ladda ner', 'kopie', 'herunterlad', 'kopi', 'hent'],
  // Where a parcel is.
  tracking: [
    'tracking', 'track my', 'where is my order', 'where is my parcel', 'where is my package', 'not arrived', "hasn't arrived", 'not received', 'never arrived', 'not delivered',
    'seuran', 'missä tilaukseni', 'missä pakettini',
    'spårning', 'spåra', 'var är min beställning', 'var är mitt paket',
    'sendungsverfolg', 'verfolg', 'wo ist meine bestellung', 'wo ist mein paket',
    'sporing', 'spore', 'hvor er min',
    'ei ole … tullut', 'ei ole … saapunut', 'ei ole … kuulunut', 'inte … kommit', 'inte … fått', 'nicht … angekommen', 'nicht … erhalten', 'nicht … gekommen',
  ],
  // What is sent: a parcel (not the order as a purchase, which every article names).
  parcel: [
    'parcel', 'package', 'shipment',
    'paketti', 'paketin', 'pakettini', 'lähetys', 'lähetyks',
    'paket', 'försändelse',
    'sendung',
    'pakke', 'forsendelse',
  ],
  // A parcel leaving.
  dispatch: [
    'shipped', 'ships=', 'ship=', 'dispatch',
    'lähtee', 'lähtevät', 'lähetetty', 'lähetetään',
    'skickas', 'skickat', 'avsänd',
    'verschickt', 'versendet', 'versand', 'verschick',
    'afsendt', 'sendes', 'sendt',
  ],
  // The phone or device that holds a second factor.
  device: [
    'phone', 'mobile', 'device',
    'puhelin', 'puhelim', 'kännyk', 'laite', 'laitte',
    'telefon', 'mobil', 'enhet',
    'handy', 'smartphone', 'gerät',
    'enhed',
  ],
  lost: [
    'lost', 'lose', 'stolen', 'misplaced',
    'kadot', 'kadon', 'hukat', 'hukkas', 'varastet',
    'tappat', 'tappade', 'borttappad', 'förlorat', 'stulen', 'stulits',
    'verloren', 'verlier', 'gestohlen',
    'mistet', 'tabt', 'stjålet',
  ],
  // A one-time code or second step at sign-in.
  code: [
    'code=', 'codes=', 'login code', 'two-factor', 'two-step', 'verification', '2fa', 'authenticator', 'sms code', 'backup code',
    'koodi', 'kaksivaih', 'tunnistautu', 'vahvist', 'todennus', 'tekstiviesti',
    'kod=', 'koden', 'koder', 'inloggningskod', 'tvåsteg', 'tvåfaktor', 'verifier', 'autentiser', 'bankid',
    'code', 'anmeldecode', 'zwei-faktor', 'authentifizier', 'authenticator',
    'kode=', 'koden', 'totrins', 'tofaktor',
  ],
  // Removing an account or its data (Finnish "poistaa käytöstä" is turning a setting off, not this).
  delete: [
    'delete', 'remove my', 'erase', 'close my account', 'gdpr',
    'poistakaa', 'poistaisitte', 'poistaa tilin', 'poistaa tilini', 'poista tili', 'tilin poist', 'tietojen poist', 'tietoni', 'sulkea tili',
    'radera', 'ta bort mitt', 'ta bort min', 'avsluta mitt konto', 'stäng mitt konto',
    'lösch', 'konto schließen',
    'slet', 'slett',
  ],
};

interface Matcher {
  name: string;
  words: Set<string>;
  prefixes: string[];
  inside: string[];
  phrases: string[];
  gapped: RegExp[];
}

const escape = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function matcherOf(name: string, entries: string[]): Matcher {
  const m: Matcher = { name, words: new Set(), prefixes: [], inside: [], phrases: [], gapped: [] };
  for (const raw of entries) {
    // NFKC turns "…" into "...".
    const e = raw.normalize('NFKC').toLowerCase();
    if (e.includes('...')) m.gapped.push(new RegExp(` ${e.split(/\s*\.\.\.\s*/).map((part) => part.split(' ').map((w) => `${escape(w)}\\S*`).join(' ')).join('(?: \\S+){0,3} ')}`, 'u'));
    else if (e.includes(' ')) m.phrases.push(` ${e} `);
    else if (e.startsWith('^')) m.prefixes.push(e.slice(1));
    else if (e.endsWith('=')) m.words.add(e.slice(0, -1));
    else if (e.length >= 5) m.inside.push(e);
    else m.prefixes.push(e);
  }
  return m;
}

const MATCHERS: Matcher[] = Object.entries(SENSES).map(([name, entries]) => matcherOf(name, entries));

const wordNames = (m: Matcher, w: string) => m.words.has(w) || m.prefixes.some((p) => w.startsWith(p)) || m.inside.some((s) => w.includes(s));

const CONTEXT = new Map(Object.entries(READ_IN_CONTEXT).map(([name, c]) => {
  const other = matcherOf(name, c.other);
  const company = matcherOf(name, c.alsoWith);
  const withSenses = MATCHERS.filter((m) => c.with.includes(m.name));
  // A cue inside the sense's own word: "rabattkoder", "Telefonnummer", "puhelinaika" (whole-word cues are not compound parts).
  const compoundParts = [...other.prefixes, ...other.inside];
  return [name, {
    other: (w: string) => wordNames(other, w),
    company: (w: string) => wordNames(company, w) || withSenses.some((m) => wordNames(m, w)),
    inCompound: (w: string) => compoundParts.some((p) => w.includes(p)),
  }];
}));

// How far a neighbour may be to decide a word's sense.
const NEIGHBOURS = 6;

/** Whether a word of a context-read sense means it where it stands (the nearest deciding neighbour wins; a tie keeps the sense). */
function meantHere(m: Matcher, ws: string[], i: number): boolean {
  const c = CONTEXT.get(m.name)!;
  if (c.inCompound(ws[i]!)) return false;
  let other = Infinity;
  let company = Infinity;
  for (let d = 1; d <= NEIGHBOURS; d++) {
    for (const j of [i - d, i + d]) {
      const w = ws[j];
      if (w === undefined || wordNames(m, w)) continue;
      if (other === Infinity && c.other(w)) other = d;
      if (company === Infinity && c.company(w)) company = d;
    }
  }
  return other === Infinity || company <= other;
}

// An email address is not where a parcel goes: "the email address of your account" names no delivery address.
const EMAIL_ADDRESS = /\b(e-?mail|mail)[- ]?(address|adress|adresse)\p{L}*|sähköpostiosoit\p{L}*|e-?post-?adress\p{L}*|e-?mail-?adress\p{L}*|e-?postadresse\p{L}*/giu;

/** The senses a text's words name. */
export function sensesOf(raw: string): Set<string> {
  const text = raw.normalize('NFKC').toLowerCase().replace(EMAIL_ADDRESS, ' email ');
  // Hyphens kept inside words ("two-factor", "Y-tunnus"); apostrophes as in features.ts.
  const ws = (text.match(/[\p{L}\p{N}'-]+/gu) ?? []).map((w) => w.replace(/^-+|-+$/g, ''));
  const parts = ws.flatMap((w) => (w.includes('-') ? [w, ...w.split('-').filter(Boolean)] : [w]));
  const joined = ` ${words(text).join(' ')} `;
  return new Set(MATCHERS
    .filter((m) => m.phrases.some((p) => joined.includes(p)) || m.gapped.some((r) => r.test(joined))
      || parts.some((w, i) => wordNames(m, w) && (!CONTEXT.has(m.name) || meantHere(m, parts, i))))
    .map((m) => m.name));
}

/** The senses the message names that the passage names too. */
export function sharedSenses(message: string, passage: string): string[] {
  const p = sensesOf(passage);
  return [...sensesOf(message)].filter((s) => p.has(s));
}
