/**
 * Visible-reply extraction: the part of a plain-text email body the sender actually wrote, without
 * quoted history, attribution lines ("On … wrote:", in many languages), forwarded headers and
 * "Sent from my phone" signatures. Each line is classified, the classes form a string, and a few
 * patterns over that string decide where the new text ends. Pure and linear in the input size.
 */

type LineClass =
  | 'e' // empty
  | 'd' // separator line (----, ____, ====)
  | 's' // mobile / client signature ("Sent from my iPhone")
  | 'a' // attribution or forwarded-message marker ("On … wrote:", "-----Original Message-----")
  | 'h' // quoted-header line ("From: …", "Sent: …")
  | 'q' // quoted line (">")
  | 't'; // text

const SEPARATOR = /^[ \t]*[-_,=+~#*ᐧ—–]+[ \t]*$/u;

// Client signatures, one line each; matched after markdown links are reduced to their label.
const CLIENT_SIGNATURES: RegExp[] = [
  // "Sent from my iPhone", but not a sentence that happens to start that way.
  /^[ \t]*[\(<]*sent (?:from|via|with|by|using) (?:\S+\s*){1,6}$/iu,
  /^[ \t]*[\(<]*sent (?:from|via|with|by|using) .*(?:excuse|typo|brevity)/iu,
  /^[ \t]*\p{L}+ from mobile\b/iu,
  /^[ \t]*from my .{1,20}$/iu,
  /^[ \t]*get outlook for /iu,
  /^[ \t]*從我的 iPhone 傳送/u,
  /^[ \t]*发自我的\s*iPhone/u,
  /^[ \t]*envoyé (?:depuis|de) (?:mon|yahoo mail)/iu,
  /^[ \t]*von meinem .+ gesendet/iu,
  /^[ \t]*gesendet von meinem /iu,
  /^[ \t]*diese nachricht wurde von .+ gesendet/iu,
  /^[ \t]*inviato da /iu,
  /^[ \t]*sendt fra min /iu,
  /^[ \t]*enviado (?:do|desde) (?:meu|mi) /iu,
  /^[ \t]*verzonden (?:met|vanaf mijn) /iu,
  /^[ \t]*verstuurd vanaf mijn /iu,
  /^[ \t]*(?:skickat )?från min /iu,
  /^[ \t]*lähetetty (?:iphonesta|android|puhelimesta|.{1,30}-?laitteesta)/iu,
  /^[ \t]*wysłane z (?:mojego )?/iu,
  /^[ \t]*отправлено с /iu,
];

// "On <date>, <someone> wrote:" and its translations: an opening word, then anything, then a verb.
const ON_WROTE: [string, string][] = [
  ['On|At', 'wrote|writes|says|said'],
  ['In message', 'writes'],
  ['Le', 'a\\s+écrit|nous\\sa\\sdit'],
  ['Am', 'geschrieben|schrieben\\sSie|schrieb.*:'],
  ['Op', 'het\\svolgende\\sgeschreven|schreef.*:'],
  ['Il', 'ha\\sscritto'],
  ['El', 'escribió'],
  ['Em', 'escreveu'],
  ['Dnia|Dňa', 'napisał(?:\\(a\\))?'],
  ['Den', 'skrev.*:'],
  ['在', '写道'],
];
const ON_WROTE_RE = ON_WROTE.map(([on, wrote]) => new RegExp(`^[ \\t<>-]*(?:${on})\\s.*?(?:${wrote})[\\s.:>-]*$`, 'iu'));

const ATTRIBUTIONS: RegExp[] = [
  ...ON_WROTE_RE,
  // Date first, verb last: Scandinavian, Finnish, Slavic clients.
  /^[ \t>]*\S.*\d.*(?<!\p{L})(?:skrev|kirjoitti|napisał|написал|написала|пише|пишет|napsal|írta|yazdı)(?:\(a\))?(?!\p{L}).*:[ \t]*$/iu,
  /\d{4}.{1,80}пользователь.{0,80}написал:/iu,
  // "<date> <name> <addr>:" (Gmail in several locales) and ISO-dated Gmail lines.
  /\d{4}.{1,80}\s?<[^@<>\s]+@[^@<>\s.]+\.[^@<>\s]+>:?$/u,
  /^[ \t>]*20\d\d-\d\d-\d\d \d\d?:\d\d GMT[+-]\d\d:\d\d [\p{L}\p{N}_ \t.'-]+$/u,
  // "<someone> wrote on <date>:", "<someone> schrieb am <date>:".
  /^.+\b(?:wrote|schrieb)\s+(?:on|am)\b.+:$/iu,
  // "someone via Service wrote:"
  /^.+ via .+ (?:wrote|schrieb):?[ \t]*$/iu,
  // "Some One <a@b.c> wrote:" / "Some One (a@b.c) wrote:"
  /^.*\b[\w.+-]+@[\w.-]+\.\w{2,}\b.*\bwrote:?[ \t]*$/iu,
  /^[ \t>]*posted by .+ on \d{2}\/\d{2}\/\d{4}$/iu,
  /^[ \t>]*begin forwarded message:/iu,
  /^[ \t>]*début du message (?:transféré|réexpédié)\s?:/iu,
  /^[ \t>]*(?:Anfang der weitergeleiteten Nachricht|Inicio del mensaje reenviado|Vidarebefordrat brev|Välitetty viesti alkaa)\s?:/iu,
  /^[ \t>*]*-{2,}[ \t]*(?:Forwarded|Original|Reply) Message[ \t]*-{2,}/iu,
  /^[ \t>*]*-{2,}[ \t]*(?:Message transféré|Ursprüngliche Nachricht|Weitergeleitete Nachricht|Mensaje original|Mensaje reenviado|Messaggio originale|Oorspronkelijk bericht|Ursprungligt meddelande|Alkuperäinen viesti|Välitetty viesti|Opprinnelig melding|Oprindelig meddelelse|Исходное сообщение|原始邮件|原始郵件)[ \t]*-{2,}/iu,
];

// Quoted header blocks (Outlook, forwarded mail): dated headers need a digit, the others any word.
const DATED_HEADERS = ['Sent', 'Date', 'Le', 'Gesendet', 'Enviada em', 'Enviado', 'Fecha', 'Data', 'Datum', 'Skickat', 'Sendt', 'Lähetetty', 'Päivämäärä', 'Отправлено', 'Дата', '发送时间', '日期'];
const TEXT_HEADERS = ['From', 'To', 'Cc', 'Reply-To', 'Subject', 'Fra', 'Til', 'Emne', 'De', 'Expéditeur', 'À', 'Destinataire', 'Répondre à', 'Objet', 'Von', 'An', 'Betreff', 'Para', 'Assunto', 'Asunto', 'Da', 'Risposta', 'A', 'Oggetto', 'Van', 'Beantwoorden - Aan', 'Aan', 'Onderwerp', 'Från', 'Till', 'Ämne', 'Lähettäjä', 'Vastaanottaja', 'Aihe', 'От', 'Кому', 'Тема', '发件人', '收件人', '主题'];
const HEADER_RES: RegExp[] = [
  new RegExp(`^[ \\t*]*(?:${DATED_HEADERS.join('|')})[ \\t*]*:.*\\d`, 'u'),
  new RegExp(`^[ \\t*]*(?:${TEXT_HEADERS.join('|')})[ \\t*]*:.*[\\p{L}\\p{N}_]`, 'iu'),
];

const MD_LINK = /\[([^\]]+)\]\([^)]+\)/gu;
/** Lines longer than this are never markers: keeps the regexes linear on pathological input. */
const MAX_MARKER_LINE = 400;

function classify(line: string): LineClass {
  // A line of bare quote markers carries nothing.
  if (/^[\s>]*$/u.test(line)) return 'e';
  if (SEPARATOR.test(line)) return 'd';
  if (line.length <= MAX_MARKER_LINE) {
    const plain = line.replace(MD_LINK, '$1');
    if (CLIENT_SIGNATURES.some((r) => r.test(plain))) return 's';
    if (ATTRIBUTIONS.some((r) => r.test(line))) return 'a';
    if (HEADER_RES.some((r) => r.test(line))) return 'h';
  }
  if (/^[ \t]*>/u.test(line)) return 'q';
  return 't';
}

const OPENING_WORD = /^[ \t<>-]*(?:On|At|Le|Am|Op|Il|El|Em|Dnia|Dňa|Den|In message|在)\s/iu;
const ATTRIBUTION_START = new RegExp(`${OPENING_WORD.source}|\\d{4}|@[\\w.-]+\\.\\w{2,}|<$`, 'iu');
const LONE_VERB = /^(?:wrote|writes|schrieb|escribió|escreveu|a\s+écrit|ha\s+scritto|napisał(?:\(a\))?|skrev|kirjoitti|написал|пише)\s*:?\s*$/iu;
const MAX_WRAP = 6;

/**
 * Attribution lines wrapped by the client ("On Mon, …\n<someone> wrote:") are joined into one
 * line. A joined attribution must carry a digit (its date), so prose like "On this day\nI wrote"
 * stays text.
 */
function joinWrappedAttributions(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length <= MAX_MARKER_LINE && ATTRIBUTION_START.test(line) && classify(line) === 't') {
      let joined = line;
      let used = 0;
      for (let k = 1; k <= MAX_WRAP && i + k < lines.length; k++) {
        const next = lines[i + k]!.replace(/^[\s>-]*/u, '');
        if (next === '') continue;
        // A line that is an attribution on its own starts another one.
        if (OPENING_WORD.test(next) && classify(next) === 'a') break;
        joined = joined.endsWith('<') ? `${joined}${next}` : `${joined} ${next}`;
        if (joined.length > MAX_MARKER_LINE) break;
        if (/\d/u.test(joined) && ATTRIBUTIONS.some((r) => r.test(joined))) {
          used = k;
          break;
        }
      }
      if (used > 0) {
        // "…<addr>\n> wrote:": the verb on its own line belongs to the same attribution.
        let k = used + 1;
        while (i + k < lines.length && /^[\s>]*$/u.test(lines[i + k]!) && k < used + 3) k++;
        const verb = lines[i + k]?.replace(/^[\s>-]*/u, '');
        if (verb !== undefined && LONE_VERB.test(verb)) {
          joined = `${joined} ${verb}`;
          used = k;
        }
        out.push(joined);
        i += used;
        continue;
      }
    }
    out.push(line);
  }
  return out;
}

/** Lines inside ``` fences are text whatever they look like. */
function classifyAll(lines: string[]): LineClass[] {
  let fenced = false;
  return lines.map((line) => {
    if (/^[ \t]*```/u.test(line)) {
      fenced = !fenced;
      return 't';
    }
    return fenced ? 't' : classify(line);
  });
}

export interface ReplySplit {
  /** What the sender wrote in this message. */
  visible: string;
  /** The quoted history or forwarded message cut off after the visible part. */
  elided: string;
}

/** Splits a plain-text body into the visible reply and the elided history. */
export function splitReply(body: string): ReplySplit {
  if (!body || /^\s*$/u.test(body)) return { visible: '', elided: '' };
  let lines = joinWrappedAttributions(body.replace(/\r*\n|\r/gu, '\n').split('\n'));
  let pattern = classifyAll(lines);
  let elided: string[] = [];

  const keep = (pred: (c: LineClass) => boolean) => {
    const nl: string[] = [];
    const np: LineClass[] = [];
    pattern.forEach((c, i) => {
      if (pred(c)) {
        nl.push(lines[i]!);
        np.push(c);
      }
    });
    lines = nl;
    pattern = np;
  };
  const cutAt = (index: number) => {
    elided = [...lines.slice(index), ...elided];
    lines = lines.slice(0, index);
    pattern = pattern.slice(0, index);
  };
  const str = () => pattern.join('');

  // "-- " (RFC 3676) starts the sender's signature.
  const sigDash = lines.findIndex((l, i) => /^--[ \t]?$/u.test(l) && pattern.slice(0, i).includes('t'));
  if (sigDash >= 0) cutAt(sigDash);

  // A separator after text followed by a few unquoted lines: a signature or list footer.
  const footer = /te*d([^q]*)$/u.exec(str());
  if (footer && footer[1]!.replace(/[ed]/gu, '').length <= 8) cutAt(footer.index + footer[0].indexOf('d'));
  // "-Name" closing a message (a one-line dash signature).
  const last = pattern.lastIndexOf('t');
  if (last > 0 && /^-\p{L}[\p{L} .'-]{0,40}$/u.test(lines[last]!.trim()) && pattern.slice(0, last).includes('t')) cutAt(last);

  // Separators and client signatures never carry content.
  keep((c) => c !== 'd' && c !== 's');

  // Bottom-posted reply: history first, the new text after it.
  const bottom = /^[ae]*a[ae]*q[eqah]*t[te]*$/u.exec(str());
  if (bottom) {
    const first = pattern.indexOf('t', pattern.lastIndexOf('q'));
    elided = lines.slice(0, first);
    lines = lines.slice(first);
    pattern = pattern.slice(first);
  }

  // The first attribution after text ends the visible part, unless the sender answered inline
  // below it (a quote followed by more of their own text).
  const s = str();
  const marker = /te*a/u.exec(s);
  if (marker) {
    const at = marker.index + marker[0].length - 1;
    if (!/q[eqah]*t/u.test(s.slice(at))) cutAt(at);
  }
  // Remaining markers (e.g. above inline replies) are blanked, not cut.
  pattern = pattern.map((c, i) => {
    if (c !== 'a') return c;
    lines[i] = '';
    return 'e';
  });

  // A header block split by wrapped values counts as one block.
  const wrapped = /h+[hte]+h+e/u.exec(str());
  if (wrapped) for (let k = 0; k < wrapped[0].length; k++) pattern[wrapped.index + k] = 'h';
  // Three or more header lines after text: an Outlook-style quoted message starts there.
  const headers = /t[eq]*h{3,}/u.exec(str());
  if (headers) cutAt(headers.index + headers[0].indexOf('h'));
  keep((c) => c !== 'h');

  // Trailing quotes go when the sender wrote something of their own.
  const rest = str();
  if (rest.includes('t')) {
    const trailing = /[eq]+$/u.exec(rest);
    if (trailing) cutAt(trailing.index);
  } else if (!rest.includes('q')) {
    lines = [];
  }
  return { visible: lines.join('\n').trim(), elided: elided.join('\n').trim() };
}

/** The visible reply only. */
export function visibleReply(body: string): string {
  return splitReply(body).visible;
}
