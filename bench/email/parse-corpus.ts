// Parses the MIME corpus once and prints counts and throughput; last line one JSON object.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseEmail } from '../../connectors/email/parse.js';
const root = process.env.HUMMDESK_CORPUS_DIR ? join(process.env.HUMMDESK_CORPUS_DIR, 'email/mime') : new URL('../../../shared/data/email/mime', import.meta.url).pathname;
const files: string[] = [];
const walk = (d: string) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) walk(p); else if (!/^(MANIFEST\.csv|SOURCE\.txt)$/.test(f)) files.push(p); } };
walk(root);
const counts: Record<string, number> = {};
let slowest = 0, slowFile = '';
const t0 = Date.now();
for (const f of files) {
  const t = Date.now();
  const p = await parseEmail(readFileSync(f), { channelId: 'c' });
  const ms = Date.now() - t; if (ms > slowest) { slowest = ms; slowFile = f; }
  const k = p.rejected ? 'rejected' : p.event.type === 'message' ? (p.autoReply ? 'message_auto' : 'message') : p.event.type === 'status' ? `status_${p.event.status}` : 'ignored';
  counts[k] = (counts[k] ?? 0) + 1;
  if (process.argv[2] === k) console.log(f.slice(root.length + 1), p.rejected ?? (p.event.type === 'ignored' ? p.event.reason : p.autoReplyReason ?? ''));
}
const totalMs = Date.now() - t0;
console.log(JSON.stringify({ files: files.length, ...counts, total_ms: totalMs, msgs_per_s: Math.round((files.length / totalMs) * 1000), slowest_ms: slowest, slowest_file: slowFile.slice(root.length + 1) }));
