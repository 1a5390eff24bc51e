import { readFileSync } from 'node:fs';

/** CPU time from Linux's /proc: what a local process, its main thread or its reaped children have used. */

/** Fields of a /proc …/stat file after the command name (state is [0]); undefined for a process that is not local or gone. */
export function statFields(path: string): string[] | undefined {
  try {
    return readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;
const ticksMs = (f: string[] | undefined, a: number, b: number) => (f ? ((Number(f[a]) + Number(f[b])) * 1000) / CLOCK_TICKS : 0);

/** CPU (user + system, ms) a local process has used so far; 0 for one that is gone or not local. */
export function processCpuMs(pid: number): number {
  return ticksMs(statFields(`/proc/${pid}/stat`), 11, 12);
}

/** CPU time (ms) of a process's main thread: the event loop's, its other threads (AI, libuv) excluded. */
export function mainThreadMs(pid: number): number {
  return ticksMs(statFields(`/proc/${pid}/task/${pid}/stat`), 11, 12);
}

/** CPU (ms) the children a process has reaped used in their lifetimes (cutime + cstime); 0 when not local. */
export function reapedChildrenMs(pid: number): number {
  return ticksMs(statFields(`/proc/${pid}/stat`), 13, 14);
}
