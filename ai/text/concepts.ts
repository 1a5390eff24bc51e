/**
 * A small hand-written multilingual lexicon: words of one support concept in English, Finnish, Swedish,
 * German, Danish and Norwegian become one shared feature, so what the English examples teach reaches a
 * Finnish or Swedish message that shares no n-gram with them (the sentence embedding is English only).
 *
 * A stem of five or more letters matches anywhere inside a word (Finnish, Swedish and German compounds:
 * "kirjautumisongelma", "Kreditkartenrechnung"); a shorter one only at the start of a word; a stem ending
 * in "=" only the whole word. An entry with a space is a phrase, matched on word boundaries.
 */
export const CONCEPTS: Record<string, string[]> = {
  // billing
  invoice: ['invoice', 'bill=', 'billed', 'billing', 'receipt', 'statement', 'lasku', 'kuitti', 'faktur', 'kvitto', 'kvittering', 'rechnung', 'quittung', 'beleg', 'regning'],
  charge: ['charge', 'charging', 'debit', 'veloit', 'veloitus', 'laskutet', 'debiter', 'dragit', 'trukket', 'trukket', 'belast', 'abgebucht', 'abbuchung', 'doppelt', 'twice', 'kahdesti', 'kaksi kertaa', 'två gånger', 'dubbel', 'to gange', 'to ganger'],
  refund: ['refund', 'money back', 'reimburs', 'palautus', 'hyvitys', 'hyvit', 'rahat takaisin', 'rahani', 'återbetal', 'pengarna tillbaka', 'pengene tilbage', 'pengene tilbake', 'refusion', 'tilbagebetal', 'tilbakebetal', 'erstatt', 'rückerstatt', 'geld zurück', 'gutschrift'],
  payment: ['payment', 'pay=', 'paid', 'paying', 'card=', 'credit card', 'paypal', 'direct debit', 'maksu', 'maksoin', 'maksettu', 'maksa', 'kortti', 'luottokort', 'betalning', 'betala', 'betalat', 'betalt', 'betaling', 'kortet', 'kreditkort', 'zahlung', 'bezahl', 'karte', 'kreditkart', 'überweis', 'lastschrift', 'vat=', 'alv=', 'moms', 'mwst', 'mehrwertsteuer', 'mva='],
  price_increase: ['went up', 'increase', 'higher than', 'more expensive', 'nousi', 'korotu', 'kallistu', 'kalliimpi', 'höjt', 'höjning', 'dyrare', 'högre', 'erhöh', 'höher', 'teurer', 'dyrere', 'højere', 'høyere'],
  cancel_contract: ['cancel', 'irtisano', 'peruin', 'perui', 'sa upp', 'sade upp', 'uppsägning', 'säga upp', 'kündig', 'opsag', 'opsig', 'sagt opp', 'si opp'],
  fee: ['fee=', 'fees=', 'price on the invoice', 'maksullinen', 'avgift', 'gebyr', 'gebühr'],
  // sales
  price: ['price', 'pricing', 'cost=', 'costs=', 'how much', 'quote', 'offer', 'hinta', 'hinnan', 'paljonko', 'maksaa', 'tarjous', 'kustan', 'pris=', 'priset', 'kostar', 'koster', 'offert', 'tilbud', 'kosten', 'kostet', 'preis', 'angebot', 'hvad koster', 'hva koster'],
  purchase: ['more users', 'more seats', 'lisää käyttäj', 'käyttäjää lisää', 'fler användare', 'användare till', 'weitere nutzer', 'flere brugere', 'flere brukere', 'bigger', 'larger', 'isompa', 'isompi', 'suurempa', 'större', 'größer', 'større', 'buy', 'purchase', 'order more', 'upgrade', 'downgrade', 'licen', 'seats', 'subscription plan', 'ostaa', 'ostaisin', 'hankki', 'päivittää paket', 'lisenssi', 'käyttäjälle', 'köpa', 'köper', 'uppgrader', 'licens', 'kjøpe', 'købe', 'opgrader', 'oppgrader', 'kaufen', 'bestellen', 'lizenz', 'upgrade', 'paket'],
  discount: ['discount', 'promo', 'coupon', 'alennus', 'alekoodi', 'tarjouskoodi', 'rabatt', 'rabat', 'kampanj', 'gutschein'],
  trial: ['esitel', 'esittely', 'trial=', 'trials=', 'free trial', 'demo', 'kokeilu', 'koeaika', 'esittely', 'provperiod', 'prova', 'testperiod', 'prøveperiode', 'prøve', 'testversion', 'testphase', 'vorführ'],
  stock: ['size=', 'koko=', 'koossa', 'kokoa', 'storlek', 'größe', 'størrelse', 'vorrät', 'in stock', 'available in', 'varasto', 'saatavilla', 'lager', 'på lager', 'vorrätig', 'lieferbar'],
  // account
  password: ['password', 'passcode', 'salasan', 'lösenord', 'passord', 'adgangskode', 'kodeord', 'passwort', 'kennwort'],
  login: ['log in', 'login', 'log into', 'sign in', 'signin', 'logged out', 'locked out', 'kirjaudu', 'kirjautu', 'sisään', 'logga in', 'inloggning', 'logga', 'logge ind', 'logge inn', 'innlogging', 'anmeld', 'einlogg', 'anmelden', 'anmeldung', 'login', 'gesperrt', 'lukittu', 'låst', 'spärrad', 'sperret'],
  account: ['account', 'profile', 'username', 'user name', 'tili=', 'tilin', 'tiliä', 'tilini', 'tilille', 'käyttäjätun', 'käyttäjätil', 'profiil', 'konto', 'kontot', 'profil', 'användarnamn', 'brukernavn', 'brugernavn', 'benutzerkonto', 'benutzername', 'kundenkonto'],
  email: ['email', 'e-mail', 'sähköpost', 'mejl', 'e-post', 'epost', 'spam', 'roskapost', 'skräppost', 'junk'],
  verification: ['verification', 'verify', 'two-factor', 'two factor', 'authenticat', 'vahvistus', 'tunnistautu', 'kaksivaih', 'verifier', 'tvåfaktor', 'bekräftelse', 'bekræft', 'bekreft', 'bestätig', 'zwei-faktor', 'verifizier'],
  unsubscribe: ['unsubscribe', 'newsletter', 'marketing email', 'uutiskirje', 'markkinointi', 'nyhetsbrev', 'nyhedsbrev', 'avregistr', 'afmeld', 'meld meg av', 'abmelden', 'abbestell'],
  delete_account: ['delete my account', 'close my account', 'remove my data', 'poista tili', 'poistaa tili', 'sulkea tili', 'radera', 'avsluta mitt konto', 'slette', 'slett', 'löschen', 'konto schließen', 'kündig'],
  permissions: ['admin', 'permission', 'access rights', 'role=', 'colleague', 'oikeud', 'käyttöoikeu', 'kollega', 'työkaveri', 'behörighet', 'rättighet', 'rettighed', 'tilgang', 'berechtigung', 'rechte', 'kollege', 'kollegin'],
  // technical
  crash: ['crash', 'freez', 'hangs', 'kaatu', 'jumitt', 'jumiss', 'kraschar', 'krasch', 'hänger sig', 'fryser', 'låser sig', 'crasher', 'krasjer', 'stürzt', 'absturz', 'hängt'],
  error: ['error', 'bug=', 'bugs=', 'glitch', 'exception', 'virhe', 'vika', 'bugi', 'fel=', 'felet', 'felmeddelande', 'fejl', 'feil', 'fehler', 'fehlermeldung'],
  not_working: ['not working', "doesn't work", 'does not work', "isn't working", "won't work", 'stopped working', 'broken', 'not loading', "won't load", "doesn't load", "can't connect", 'cannot connect', 'ei toimi', 'ei enää toimi', 'lakkasi toimimasta', 'ei lataudu', 'ei aukea', 'ei yhdistä', 'rikki', 'toimimaton', 'fungerar inte', 'funkar inte', 'slutat fungera', 'laddar inte', 'går inte', 'virker ikke', 'fungerer ikke', 'funker ikke', 'funktioniert nicht', 'geht nicht', 'lädt nicht', 'kaputt', 'defekt', 'ødelagt', 'trasig', 'sönder', 'i stykker', 'offline', 'nicht mehr', 'inte längre', 'ei enää', 'ikke længere', 'ikke lenger'],
  slow: ['slow', 'timeout', 'times out', 'lag=', 'hidas', 'hitaa', 'hidast', 'långsam', 'seg=', 'treg', 'langsom', 'langsam', 'zeitüberschreitung'],
  software: ['app=', 'apps=', 'application', 'website', 'site=', 'browser', 'api=', 'integration', 'sync', 'webhook', 'plugin', 'sovellu', 'sivusto', 'nettisivu', 'verkkosivu', 'selain', 'integraat', 'synkron', 'appen', 'webbplats', 'hemsida', 'sidan', 'synk', 'hjemmeside', 'nettside', 'nettsiden', 'webseite', 'seite=', 'anwendung', 'schnittstelle', 'onlineshop', 'webshop', 'verkkokauppa', 'webbutik', 'rajapinta', 'calendar', 'kalenter', 'kalender'],
  device: ['device', 'router', 'printer', 'firmware', 'bluetooth', 'wifi', 'wi-fi', 'network', 'scanner', 'thermostat', 'laite', 'laitteen', 'laitteeseen', 'reitit', 'tulostin', 'verkko', 'verkos', 'wlan', 'enhet', 'routern', 'skrivare', 'nätverk', 'enhed', 'skriver', 'nettverk', 'netværk', 'gerät', 'drucker', 'netzwerk', 'wlan'],
  setup: ['install', 'set up', 'setup', 'configure', 'update', 'upgrade the app', 'reset', 'asenna', 'asennu', 'määrit', 'päivity', 'päivitä', 'nollaa', 'installer', 'konfigur', 'uppdater', 'återställ', 'opdater', 'oppdater', 'nulstil', 'tilbakestill', 'einricht', 'aktualisier', 'zurücksetz', 'factory', 'tehdasasetu', 'fabriksinställ', 'werkseinstell', 'fabriksindstil', 'fabrikkinnstil'],
  // general
  delivery: ['delivery', 'deliver', 'shipping', 'shipped', 'parcel', 'package', 'courier', 'tracking', 'arrive', 'pickup point', 'toimitus', 'toimite', 'paketti', 'paketin', 'lähetys', 'seuranta', 'saapu', 'noutopiste', 'kuriiri', 'leverans', 'leverera', 'paket=', 'paketet', 'spårning', 'försändelse', 'ombud', 'levering', 'pakke', 'pakken', 'sporing', 'lieferung', 'liefer', 'versand', 'sendung', 'paket', 'zustell'],
  order: ['order=', 'orders=', 'my order', 'tilaus', 'tilauks', 'tilasin', 'beställ', 'ordern', 'bestilling', 'bestilte', 'bestellung', 'bestellt'],
  hours: ['opening hours', 'open on', 'are you open', 'aukiolo', 'auki', 'öppettid', 'öppet', 'åbningstid', 'åpningstid', 'öffnungszeit', 'geöffnet'],
  contact: ['phone number', 'call you', 'real person', 'human=', 'talk to someone', 'puhelinnumer', 'soittaa', 'ihmisen', 'telefonnummer', 'ringa', 'människa', 'ringe', 'menneske', 'anrufen', 'mensch'],
  returns: ['return', 'palautta', 'palautusoike', 'returnera', 'zurückschick', 'returnere', 'returner', 'retur', 'rücksend', 'rückgabe', 'umtausch'],
  // complaint
  dissatisfied: ['disappoint', 'unacceptable', 'ridiculous', 'outrageous', 'terrible', 'awful', 'useless', 'worst', 'fed up', 'furious', 'angry', 'rude', 'pettyny', 'pettymys', 'ei hyväksyttävä', 'kohtuuton', 'surkea', 'järkyttävä', 'huono palvelu', 'tyytymätön', 'vihainen', 'töykeä', 'besviken', 'oacceptabel', 'värdelös', 'bedrövlig', 'usel', 'sämst', 'arg=', 'missnöjd', 'oförskämd', 'skuffet', 'uacceptabel', 'uakseptabel', 'elendig', 'utilfreds', 'misfornøyd', 'sur=', 'enttäuscht', 'inakzeptabel', 'unverschämt', 'frechheit', 'katastrophe', 'schrecklich', 'unzufrieden', 'ärgerlich', 'wütend'],
  escalate: ['complaint', 'manager', 'supervisor', 'consumer authority', 'bad review', 'lawyer', 'valitus', 'reklamaatio', 'esimie', 'kuluttajavirast', 'kuluttajariita', 'klagomål', 'reklamation', 'anmäla', 'chef=', 'konsumentverket', 'klage', 'forbrugerombud', 'forbrukerråd', 'beschwerde', 'vorgesetzt', 'verbraucherzentrale', 'anwalt'],
  repeated: ['third time', 'again and again', 'still not', 'nobody answers', 'no one answers', 'nobody called', 'weeks', 'kolmas kerta', 'taas', 'vieläkään', 'kukaan ei vastaa', 'viikko', 'tredje gången', 'igen', 'fortfarande inte', 'ingen svarar', 'veckor', 'tredje gang', 'stadig ikke', 'fortsatt ikke', 'ingen svarer', 'uger', 'uker', 'dritte mal', 'immer noch nicht', 'schon wieder', 'niemand antwortet', 'wochen'],
  // courtesy
  thanks: ['thank', 'thx', 'appreciate', 'kiitos', 'kiitti', 'kiitoksia', 'tack', 'takk', 'tak=', 'danke', 'vielen dank'],
  greeting: ['hello', 'hi=', 'hey=', 'good morning', 'hei=', 'moi=', 'terve', 'hej=', 'hallo', 'god morgon', 'god morgen', 'guten tag', 'moin'],
};

/** Problem cues for sentiment, by kind: a customer reporting a failure, a delay, a loss or dissatisfaction. */
export const PROBLEM_CUES: Record<string, string[]> = {
  failure: [...CONCEPTS.not_working!, ...CONCEPTS.crash!, 'stopped', 'leak', 'vuota', 'läcker', 'leckt', 'locked', 'lukitt', 'lukossa', 'låsta', 'gesperrt', 'suspended', 'jäädyt', 'avstängt', 'even though', 'vaikka', 'fast jag', 'obwohl', 'lakkasi', 'slutade', 'hört auf', 'nicht mehr', 'only partially', 'vain osa', 'bara delvis', 'nur teilweise', 'error', 'failed', 'fails', 'declined', 'cancelled', 'canceled', 'rejected', 'wrong', 'epäonnistu', 'hylät', 'peruttu', 'peruuntu', 'väärä', 'misslyck', 'avvisad', 'inställd', 'fel=', 'mislykke', 'avvist', 'aflyst', 'avlyst', 'forkert', 'fehlgeschlagen', 'abgelehnt', 'storniert', 'falsch', 'annulliert'],
  delay: ['third email', 'third time', 'kolmas viesti', 'kolmas kerta', 'tredje mejlet', 'tredje gången', 'dritte mail', 'dritte mal', 'taken over', 'over a month', 'yli kuukau', 'över en månad', 'über einen monat', 'weeks ago', 'viikkoa sitten', 'veckor sedan', 'wochen', 'still=', 'yhä=', 'vieläkään', 'immer noch', 'fortfarande', 'stadig', 'fortsatt', 'still waiting', 'still not', 'still no', 'still have not', "still haven't", 'late=', 'delayed', 'delay', 'not arrived', "hasn't arrived", 'never arrived', 'never came', 'no answer', 'no reply', 'no response', 'nobody called', 'nobody answers', 'odotan yhä', 'odotan edelleen', 'vieläkään', 'myöhässä', 'ei ole saapunut', 'ei ole tullut', 'ei kuulunut', 'en ole saanut', 'ei vastausta', 'kukaan ei', 'väntar fortfarande', 'fortfarande inte', 'försenad', 'sen=', 'inte kommit', 'har inte fått', 'inget svar', 'ingen har', 'venter stadig', 'venter fortsatt', 'forsinket', 'ikke kommet', 'ikke fået', 'ikke fått', 'intet svar', 'ingen svar', 'warte immer noch', 'immer noch nicht', 'noch nicht angekommen', 'verspätet', 'verzögert', 'keine antwort', 'nicht erhalten', 'nie angekommen', 'niemand hat'],
  loss: ['disappeared', 'kadon', 'försvunn', 'verschwund', 'fehlen', 'saknas', 'lost', 'missing', 'damaged', 'broken', 'charged twice', 'double charged', 'overcharged', 'stolen', 'hacked', 'kadonnut', 'hävinnyt', 'puuttuu', 'vaurioitu', 'rikki', 'kahdesti', 'varastettu', 'försvunnen', 'borttappad', 'saknas', 'skadad', 'trasig', 'två gånger', 'stulen', 'forsvundet', 'mangler', 'skadet', 'beskadiget', 'stjålet', 'verloren', 'fehlt', 'beschädigt', 'doppelt', 'gestohlen'],
  dissatisfaction: [...CONCEPTS.dissatisfied!, ...CONCEPTS.escalate!, 'not happy', 'not ok', 'not okay', 'frustrat', 'annoy', 'ei ole ok', 'harmittaa', 'ärsyttä', 'turhautu', 'inte okej', 'irriter', 'frustrer', 'ikke ok', 'ikke i orden', 'nicht in ordnung', 'ärgert'],
};

/** Requests: a "thanks" closing a request is courtesy, not praise ("Har ni presentkort? Tack!"). */
import { valenceOf } from './lexicon.js';

const REQUEST_CUES: Record<string, string[]> = {
  request: ['could you', 'can you', 'would you', 'please', 'pls=', "i'd like", 'i would like', 'voisitte', 'voitteko', 'voisitko', 'voiko', 'lähettäkää', 'haluaisin', 'kan ni', 'kan du', 'skulle ni', 'skicka', 'jag vill', 'jag undrar', 'können sie', 'könnten sie', 'bitte', 'ich möchte', 'kan I', 'kan dere', 'vennligst', 'venligst'],
};

interface Matcher {
  name: string;
  words: Set<string>;
  prefixes: string[];
  inside: string[];
  phrases: string[];
}

function matchers(table: Record<string, string[]>): Matcher[] {
  return Object.entries(table).map(([name, entries]) => {
    const m: Matcher = { name, words: new Set(), prefixes: [], inside: [], phrases: [] };
    for (const raw of entries) {
      const e = raw.normalize('NFKC').toLowerCase();
      if (e.includes(' ')) m.phrases.push(` ${e}`);
      else if (e.endsWith('=')) m.words.add(e.slice(0, -1));
      else if (e.length >= 5) m.inside.push(e);
      else m.prefixes.push(e);
    }
    return m;
  });
}

const CONCEPT_MATCHERS = matchers(CONCEPTS);
const PROBLEM_MATCHERS = matchers(PROBLEM_CUES);
const REQUEST_MATCHERS = matchers(REQUEST_CUES);

function found(ms: Matcher[], ws: string[]): string[] {
  const joined = ` ${ws.join(' ')} `;
  return ms
    .filter((m) => m.phrases.some((p) => joined.includes(p)) || ws.some((w) => m.words.has(w) || m.prefixes.some((p) => w.startsWith(p)) || m.inside.some((s) => w.includes(s))))
    .map((m) => m.name);
}

/** The concepts a text's words name (words as ai/text/features.ts `words()` gives them). */
export function conceptsOf(ws: string[]): string[] {
  return found(CONCEPT_MATCHERS, ws);
}

/** The kinds of problem a text reports: failure, delay, loss, dissatisfaction. */
export function problemCuesOf(ws: string[]): string[] {
  return found(PROBLEM_MATCHERS, ws);
}

// Question words that open a sentence (mid-sentence "when"/"när" is often a clause of a report).
const QUESTION_OPENERS = ['how', 'what', 'where', 'when', 'which', 'why', 'who', 'is it', 'is there', 'are there', 'do you', 'does', 'can i', 'could i', 'may i', 'miten', 'mitä', 'mikä', 'mihin', 'mistä', 'milloin', 'missä', 'kuinka', 'onko', 'voinko', 'voiko', 'saako', 'hur', 'vad', 'vilken', 'vilka', 'varför', 'när', 'kan jag', 'går det', 'finns det', 'har ni', 'wie', 'was', 'wo', 'wann', 'welche', 'warum', 'kann ich', 'gibt es', 'haben sie', 'hvordan', 'hvad', 'hva', 'hvor', 'når', 'kan jeg', 'har dere', 'har i', 'help', 'assistance', 'information', 'apua', 'hjälp', 'hilfe', 'hjelp'];
const ASKING = matchers({ asking: [...REQUEST_CUES.request!, 'i want', 'i need', 'help me', 'let me know', 'haluan', 'tarvitsen', 'jag behöver', 'hjälp mig', 'ich brauche', 'helfen sie', 'jeg vil', 'jeg trenger', 'jeg har brug for',
  "don't know how", 'do not know how', 'help with', 'question about', 'a question', 'trying to find', 'en tiedä miten', 'kysymys', 'vet inte hur', 'fråga om', 'weiß nicht wie', 'frage zu', 'eine frage',
  // Not knowing how to do something is asking for the way, not reporting a failure (v6).
  'how to', 'dont know how', "don't know what", 'do not know what', 'dont know what', 'not sure how', 'en tiedä mitä', 'en ole varma miten', 'vet inte vad', 'osäker på hur', 'weiß nicht was', 'nicht sicher wie'] });

/**
 * A plain request or question ("Do you have it in M?", "Please update my address", "Wie lade ich … herunter"):
 * the support definition's neutral. A statement of what happened is not one ("The tablet stopped charging").
 */
export function isRequestOrQuestion(text: string, ws: string[]): boolean {
  if (text.includes('?')) return true;
  const sentences = text.toLowerCase().split(/[.!\n;:]+/u).map((x) => x.trim().replace(/^[^\p{L}]+/u, ''));
  if (sentences.some((x) => QUESTION_OPENERS.some((q) => x === q || x.startsWith(`${q} `)))) return true;
  return found(ASKING, ws).length > 0;
}

/** Thanks or praise: a thanks word, or a word of valence ≥ 2 ("great", "loistava", "toll"). */
export function thanksOrPraise(ws: string[]): boolean {
  return found(CONCEPT_MATCHERS.filter((m) => m.name === 'thanks'), ws).length > 0 || ws.some((w) => (valenceOf(w)?.value ?? 0) >= 2);
}

// Finnish asks politely with the plural imperative ("Perukaa", "Lähettäkää", "Muuttakaa"), no request word needed.
const FINNISH_IMPERATIVE = /^\p{L}{3,}(?:kaa|kää)$/u;
const GREETINGS = new Set(['hei', 'moi', 'terve', 'hej', 'hello', 'hi']);

/** The message opens (after a greeting) with a Finnish plural imperative. */
function opensWithFinnishImperative(ws: string[]): boolean {
  const first = ws.find((w) => !GREETINGS.has(w));
  return !!first && FINNISH_IMPERATIVE.test(first);
}

/** A request or question that also thanks: the thanks is a courtesy closing. */
export function isCourteousRequest(ws: string[]): boolean {
  const thanks = found(CONCEPT_MATCHERS.filter((m) => m.name === 'thanks'), ws).length > 0;
  return thanks && (ws.some((w) => w.includes('?')) || found(REQUEST_MATCHERS, ws).length > 0 || opensWithFinnishImperative(ws));
}

/**
 * A request whose only warm words are its thanks ("Har ni presentkort? Tack!", "Voisitteko lisätä…? Kiitos
 * jo etukäteen"): in support that is a plain request, neutral. Praise besides ("lovely", "great") is not.
 */
export function isCourtesyOnly(ws: string[]): boolean {
  if (!isCourteousRequest(ws)) return false;
  const thanks = CONCEPT_MATCHERS.filter((m) => m.name === 'thanks');
  return !ws.some((w) => found(thanks, [w]).length === 0 && (valenceOf(w)?.stem === false && valenceOf(w)!.value >= 2));
}
