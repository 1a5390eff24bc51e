/**
 * Text that crosses a trust boundary: what Postgres can store and what a screen shows as written.
 * Pure (no DOM, no Node built-ins), so the hub, the connectors and the Lit components share it.
 */

/** NUL: Postgres text and jsonb cannot hold it (22021 / 22P05). */
export const NUL = '\u0000';

/** Whether a string holds a character Postgres text cannot store. */
export function hasNul(s: string): boolean {
  return s.includes(NUL);
}

/** The text without NUL characters, so an inbound message is stored rather than refused. */
export function withoutNul(s: string): string {
  return s.replaceAll(NUL, '');
}

/**
 * Bidirectional formatting characters: embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069)
 * and the invisible direction marks (U+200E, U+200F, U+061C). One override turns "‮fdp.exe" into what reads
 * as "exe.pdf".
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** A name as it may be shown (a file, a contact, an upload): no bidi controls, no NUL. */
export function displayName(name: string): string {
  return withoutNul(name).replace(BIDI_CONTROLS, '');
}

/** {@link displayName} for the optional names of stored rows. */
export function displayNameOrNull<T extends string | null | undefined>(name: T): T {
  return (typeof name === 'string' ? displayName(name) : name) as T;
}
