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

/**
 * The longest stretches a thread was busy without an idle sample between (an event-loop stall, as long
 * as it was on the CPU or waiting for it), each with where most of its time went: what holds requests up.
 */
export function longestBusy(profile: CpuProfile, top = 10, window: { fromMs: number; toMs: number } = { fromMs: 0, toMs: Infinity }): { ms: number; atMs: number; where: [string, number][] }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const stretches: { ms: number; atMs: number; where: [string, number][] }[] = [];
  let at = 0;
  let current: { ms: number; atMs: number; where: Map<string, number> } | undefined;
  const close = () => {
    if (current) stretches.push({ ms: current.ms, atMs: current.atMs, where: [...current.where].sort((a, b) => b[1] - a[1]).slice(0, 4) });
    current = undefined;
  };
  for (const [i, id] of profile.samples.entries()) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    at += ms;
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') {
      close();
      continue;
    }
    current ??= { ms: 0, atMs: at, where: new Map() };
    current.ms += ms;
    const name = `${frame.functionName || '(anonymous)'}${frame.url ? ` ${owner(frame.url)}:${frame.lineNumber + 1}` : ''}`;
    current.where.set(name, (current.where.get(name) ?? 0) + ms);
  }
  close();
  return stretches.filter((s) => s.atMs >= window.fromMs && s.atMs <= window.toMs).sort((a, b) => b.ms - a.ms).slice(0, top);
}

/** The longest busy stretches of the main thread's profile in `dir`, those begun within `window` (ms since the profile began). */
export function stallReport(dir: string, top = 10, window?: { fromMs: number; toMs: number }): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const profiles = files.map((f) => ({ f, p: JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile }));
  // Node names a profile by pid and thread id: the main thread's is the lowest.
  const main = profiles.sort((a, b) => threadOf(a.f) - threadOf(b.f))[0];
  if (!main) return 'no profile';
  return [`${main.f}: longest busy stretches (no idle sample between)`,
    ...longestBusy(main.p, top, window).map((s) => `  ${Math.round(s.ms)} ms at ${(s.atMs / 1000).toFixed(1)} s: ${s.where.map(([w, ms]) => `${w} ${Math.round(ms)} ms`).join('; ')}`)].join('\n');
}

function threadOf(file: string): number {
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile
  return Number(file.split('.').at(-3) ?? Infinity);
}
