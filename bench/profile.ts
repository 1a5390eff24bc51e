/** Reads V8 CPU profiles (`node --cpu-prof`) and says where a thread's time went: the benches' `--profile`. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, a folder of ours, or Node itself. */
function owner(url: string): string {
  if (!url) return '(native / GC / idle)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/(hub|ai|storage|connectors|embeds|bin)\/([^/]+)/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url.replace(/^file:\/\//, '');
}

/** Self time of one profile by function and by owner, largest first. */
export function summarize(profile: CpuProfile, top = 15): { totalMs: number; idleMs: number; functions: [string, number][]; owners: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const functions = new Map<string, number>();
  const owners = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [i, id] of profile.samples.entries()) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    totalMs += ms;
    const place = frame.url ? `${owner(frame.url)}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'}${place ? ` ${place}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const who = frame.url ? owner(frame.url) : frame.functionName === '(garbage collector)' ? 'garbage collector' : '(native / program)';
    owners.set(who, (owners.get(who) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { totalMs, idleMs, functions: sorted(functions), owners: sorted(owners) };
}

/** A report of every profile in `dir` (one per thread), busiest first. */
export function profileReport(dir: string, top = 15): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const parts = files.map((f) => ({ f, s: summarize(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, top) })).sort((a, b) => b.s.totalMs - a.s.totalMs);
  const pct = (ms: number, total: number) => `${((100 * ms) / Math.max(1, total)).toFixed(1)} %`;
  return parts.map(({ f, s }) => [
    `${f}: busy ${Math.round(s.totalMs)} ms, idle ${Math.round(s.idleMs)} ms`,
    '  by owner: ' + s.owners.map(([o, ms]) => `${o} ${pct(ms, s.totalMs)}`).join(', '),
    ...s.functions.map(([name, ms]) => `  ${pct(ms, s.totalMs).padStart(7)}  ${name}`),
  ].join('\n')).join('\n');
}
