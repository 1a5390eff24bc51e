/**
 * PII redaction before text leaves the building: emails, IBANs (mod-97 checked), card numbers
 * (Luhn checked) and phone numbers become placeholders like [EMAIL_1]; the same value always gets the
 * same placeholder within one request, and `restore` puts the originals back into the model's reply.
 */
export type PiiKind = 'EMAIL' | 'IBAN' | 'CARD' | 'PHONE';

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;
const IBAN = /\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}\b/g;
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
const PHONE = /(?:\+|\b00)?\(?\d[\d ().\/-]{5,}\d\b/g;
const PLACEHOLDER = /\[(EMAIL|IBAN|CARD|PHONE)_(\d+)\]/g;

export class Redactor {
  private readonly byValue = new Map<string, string>();
  private readonly byPlaceholder = new Map<string, string>();
  private readonly counts: Record<PiiKind, number> = { EMAIL: 0, IBAN: 0, CARD: 0, PHONE: 0 };

  redact(text: string): string {
    let out = text.replace(EMAIL, (m) => this.placeholder('EMAIL', m));
    out = out.replace(IBAN, (m) => {
      const valid = longestValidIban(m);
      return valid ? this.placeholder('IBAN', valid) + m.slice(valid.length) : m;
    });
    out = out.replace(CARD, (m) => (luhn(m.replace(/\D/g, '')) ? this.placeholder('CARD', m) : m));
    out = out.replace(PHONE, (m) => (isPhone(m) ? this.placeholder('PHONE', m) : m));
    return out;
  }

  /** Puts the original values back; placeholders the model invented are left as they are. */
  restore(text: string): string {
    return text.replace(PLACEHOLDER, (m) => this.byPlaceholder.get(m) ?? m);
  }

  /** How many values of each kind were replaced (stored as evidence; the values never are). */
  get replaced(): Record<PiiKind, number> {
    return { ...this.counts };
  }

  private placeholder(kind: PiiKind, value: string): string {
    const known = this.byValue.get(value);
    if (known) return known;
    const p = `[${kind}_${++this.counts[kind]}]`;
    this.byValue.set(value, p);
    this.byPlaceholder.set(p, value);
    return p;
  }
}

export function luhn(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

export function ibanValid(iban: string): boolean {
  const s = iban.replace(/[ -]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rest = (rest * 10 + Number(d)) % 97;
  }
  return rest === 1;
}

/** The greedy match may run into a following word in capitals ("… 85 THANKS"): take the longest valid prefix. */
function longestValidIban(m: string): string | undefined {
  for (let end = m.length; end >= 15; end--) {
    if (end < m.length && m[end] !== ' ' && m[end] !== '-') continue;
    const candidate = m.slice(0, end).replace(/[ -]+$/, '');
    if (ibanValid(candidate)) return candidate;
  }
  return undefined;
}

function isPhone(m: string): boolean {
  const digits = m.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return false;
  // Dates and times are not phone numbers.
  if (/^\d{4}-\d{1,2}-\d{1,2}$|^\d{1,2}[./]\d{1,2}[./]\d{2,4}$/.test(m.trim())) return false;
  return m.startsWith('+') || m.startsWith('00') || digits.length >= 8;
}
