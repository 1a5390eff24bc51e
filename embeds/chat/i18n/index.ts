import en, { type ChatStrings } from './en.js';
import fi from './fi.js';
import sv from './sv.js';

/** Every language the widget speaks; add one by adding a file and a line here. */
const LANGUAGES: Record<string, ChatStrings> = { en, fi, sv };

/** The texts for a BCP 47 tag (`fi-FI` → fi), English when the language is not there. */
export function chatStrings(lang: string | undefined): ChatStrings {
  const primary = (lang ?? '').toLowerCase().split('-')[0] ?? '';
  return LANGUAGES[primary] ?? en;
}

export type { ChatStrings };
