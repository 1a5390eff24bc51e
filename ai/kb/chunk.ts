/** Splits a markdown article into passages of a few sentences, each under its nearest heading. */
export interface Passage {
  ordinal: number;
  heading: string | null;
  text: string;
}

const MAX_CHARS = 700;

export function chunkMarkdown(title: string, body: string): Passage[] {
  const out: Passage[] = [];
  let heading: string | null = title;
  let buf = '';
  const flush = () => {
    const text = buf.replace(/\s+/g, ' ').trim();
    if (text) out.push({ ordinal: out.length, heading, text });
    buf = '';
  };
  for (const block of body.replace(/\r\n/g, '\n').split(/\n\s*\n/)) {
    const h = /^#{1,6}\s+(.+)$/m.exec(block.trim());
    if (h && block.trim().startsWith('#')) {
      flush();
      heading = h[1]!.trim();
      const rest = block.trim().split('\n').slice(1).join('\n');
      if (rest.trim()) buf = rest;
      continue;
    }
    const clean = block.replace(/^[-*+]\s+/gm, '• ').replace(/[*_`]/g, '').replace(/\[([^\]]+)\]\([^)]+\)/g, '$1');
    if (buf && buf.length + clean.length > MAX_CHARS) flush();
    if (clean.length > MAX_CHARS) {
      // A long paragraph is cut at sentence ends.
      for (const s of clean.match(/[^.!?]+[.!?]*\s*/g) ?? [clean]) {
        if (buf.length + s.length > MAX_CHARS) flush();
        buf += s;
      }
    } else buf += (buf ? '\n' : '') + clean;
  }
  flush();
  return out;
}
