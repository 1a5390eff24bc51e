import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qrMatrix, qrToSvg, qrToTerminal, withQuietZone } from './qr.js';

// What the terminal shows must scan: each code drawn is decoded by zbar (Debian's zbar-tools).
const zbar = ['/usr/bin/zbarimg', '/usr/local/bin/zbarimg'].find((p) => existsSync(p));
if (!zbar) console.warn('SKIPPED: zbarimg is not installed (apt-get install zbar-tools); the QR codes drawn are not decoded');
const dir = mkdtempSync(join(tmpdir(), 'hummdesk-qr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A binary PGM, 4 pixels per module, with the 4-module quiet zone the standard asks for. */
function decode(text: string): string {
  const m = withQuietZone(qrMatrix(text), 4);
  const scale = 4;
  const side = m.length * scale;
  const pixels = Buffer.alloc(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) pixels[y * side + x] = m[Math.floor(y / scale)]![Math.floor(x / scale)] ? 0 : 255;
  const file = join(dir, `qr-${text.length}.pgm`);
  writeFileSync(file, Buffer.concat([Buffer.from(`P5\n${side} ${side}\n255\n`), pixels]));
  return execFileSync(zbar!, ['--raw', '-q', '-Sbinary', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8').replace(/\n$/, '');
}

/** A WhatsApp Web login QR has this shape: ref, noise key, identity key, secret (about 240 characters). */
const whatsappLike = (n: number) => `2@${'Ab3/+x'.repeat(n)},${'q'.repeat(43)}=,${'Z'.repeat(43)}=,${'k'.repeat(43)}=`;

describe.skipIf(!zbar)('the QR codes hummdesk whatsapp-web link draws', () => {
  it.each([1, 5, 12, 17, 25, 40])('a WhatsApp-like login of %i ref groups decodes to itself', (n) => {
    const text = whatsappLike(n);
    expect(decode(text)).toBe(text);
  });

  it.each(['x', 'HummDesk', 'ä€ unicode', 'a'.repeat(120), 'b'.repeat(600)])('other text decodes to itself: %s', (text) => {
    expect(decode(text)).toBe(text);
  });
});

describe('rendering', () => {
  it('the SVG draws exactly the dark modules, on white, with the quiet zone', () => {
    const m = withQuietZone(qrMatrix('2@abc'), 4);
    const svg = qrToSvg('2@abc');
    expect(svg).toContain(`viewBox="0 0 ${m.length} ${m.length}"`);
    expect(svg.match(/M\d+ \d+h1v1h-1z/g)).toHaveLength(m.flat().filter(Boolean).length);
  });

  it('in a terminal: two module rows per line, quiet zone included, colours reset at each line end', () => {
    const m = qrMatrix('2@abc');
    const lines = qrToTerminal('2@abc').split('\n');
    expect(lines).toHaveLength(Math.ceil((m.length + 4) / 2));
    for (const l of lines) expect(l.endsWith('\x1b[0m')).toBe(true);
  });
});
