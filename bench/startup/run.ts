/**
 * Start-up benchmark: `hummdesk start` on the embedded default (PGlite, in-process jobs, local AI),
 * from spawn to /ready answering, on an empty data folder (migrate + seed) and again on the same folder.
 * Usage: npm run bench -- startup [--runs 3]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, machine, stopProcess } from '../support.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);

async function timeStart(dataDir: string): Promise<number> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, HUMMDESK_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const began = performance.now();
  const child = spawn(process.execPath, ['bin/hummdesk.js', 'start'], { env, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error('hummdesk start exited early');
      const ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
      if (ready) return performance.now() - began;
      if (performance.now() - began > 120_000) throw new Error('not ready in 120 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await stopProcess(child);
  }
}

const first: number[] = [];
const again: number[] = [];
for (let i = 0; i < runs; i++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-startup-'));
  try {
    first.push(await timeStart(dataDir));
    again.push(await timeStart(dataDir));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const pct = (xs: number[], p: number) => Math.round(sorted(xs)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!);
process.stdout.write(`machine: ${machine()}\nfirst start (migrate + seed): ${first.map((x) => Math.round(x)).join(', ')} ms\nlater start: ${again.map((x) => Math.round(x)).join(', ')} ms\n`);
process.stdout.write(
  `${JSON.stringify({ bench: 'startup', runs, p50_ms: pct(first, 50), p95_ms: pct(first, 95), p99_ms: pct(first, 99), first_start_max_ms: Math.round(Math.max(...first)), later_start_p50_ms: pct(again, 50) })}\n`,
);
