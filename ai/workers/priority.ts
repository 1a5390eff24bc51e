import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * The niceness of the AI threads that run bulk work (imports, reindexes, retraining): on a busy machine
 * the hub's main thread (requests, and on the embedded store every query) and the analysis threads get
 * the CPU first, the bulk thread what is left. Linux schedules each thread by its own niceness.
 */
export const BULK_NICE = 10;

/** This thread's id in the kernel (Linux: /proc/thread-self is /proc/<pid>/task/<tid>), if there is one. */
export function osThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lowers the calling thread's own OS priority to `nice` (an unprivileged process may always lower its
 * priority, never raise it again, so a thread is given its niceness once, when it starts). Only where
 * a thread has a niceness of its own (Linux): elsewhere setpriority would lower the whole process,
 * main thread included, so nothing is done. Returns the thread's kernel id when it was lowered.
 */
export function lowerThisThread(nice: number): number | undefined {
  const tid = osThreadId();
  if (tid === undefined) return undefined;
  try {
    setPriority(tid, nice);
    return tid;
  } catch {
    // A sandbox that forbids setpriority: the thread runs at the process's priority, as before.
    return undefined;
  }
}
