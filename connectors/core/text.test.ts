import { describe, expect, it } from 'vitest';
import { displayName, displayNameOrNull, hasNul, withoutNul } from './text.js';

describe('text that crosses a trust boundary', () => {
  it('a right-to-left override cannot make "fdp.exe" read as "exe.pdf"', () => {
    expect(displayName('\u202Efdp.exe')).toBe('fdp.exe');
    expect(displayName('invoice\u202E\u2066gnp.\u2069exe')).toBe('invoicegnp.exe');
    for (const c of ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']) {
      expect(displayName(`a${c}b`), c.codePointAt(0)!.toString(16)).toBe('ab');
    }
  });

  it('keeps right-to-left scripts and ordinary text as written', () => {
    expect(displayName('שלום.pdf')).toBe('שלום.pdf');
    expect(displayName('مرحبا — Zoë (2).png')).toBe('مرحبا — Zoë (2).png');
  });

  it('drops NUL, which Postgres text cannot hold', () => {
    expect(hasNul('a\u0000b')).toBe(true);
    expect(hasNul('ab')).toBe(false);
    expect(withoutNul('\u0000a\u0000b\u0000')).toBe('ab');
    expect(displayName('a\u0000b')).toBe('ab');
  });

  it('passes null and undefined through', () => {
    expect(displayNameOrNull(null)).toBeNull();
    expect(displayNameOrNull(undefined)).toBeUndefined();
    expect(displayNameOrNull('\u202Ex')).toBe('x');
  });
});
