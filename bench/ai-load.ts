/** Fixed-schedule probes shared by the ai-block and ai-stage benchmarks. */

const PROBE_TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const pct = (sorted: number[], p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);

export interface Probe {
  count: number;
  failed: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Sends `request(i)` every `everyMs` on a fixed schedule (never waiting for the previous answer) until
 * `stop` resolves: a stalled server shows as long latencies, not as fewer requests.
 */
export async function onSchedule(everyMs: number, stop: Promise<unknown>, request: (i: number) => Promise<Response>): Promise<Probe> {
  const latencies: number[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  let done = false;
  void stop.then(() => (done = true));
  const began = performance.now();
  for (let i = 0; !done; i++) {
    const sent = performance.now();
    pending.push(
      request(i).then(
        async (r) => {
          await r.arrayBuffer();
          if (!r.ok) throw new Error(String(r.status));
          latencies.push(performance.now() - sent);
        },
        () => {
          failed++;
          latencies.push(PROBE_TIMEOUT_MS);
        },
      ).catch(() => {
        failed++;
      }),
    );
    await sleep(Math.max(0, began + (i + 1) * everyMs - performance.now()));
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return { count: latencies.length + failed, failed, p50: pct(latencies, 50), p95: pct(latencies, 95), p99: pct(latencies, 99), max: Math.round(latencies.at(-1) ?? 0) };
}

export const timeout = () => AbortSignal.timeout(PROBE_TIMEOUT_MS);

/** A phase that did not end in time: what the bench waited for and what it saw meanwhile. */
export class Stalled extends Error {
  override name = 'Stalled';
}

/**
 * `work`, or a Stalled error after `ms` naming `what` was awaited and, from `seen()`, the state at that
 * moment: a bench ends, every time, and says where it stood.
 */
export async function within<T>(what: string, ms: number, work: Promise<T>, seen?: () => Promise<string> | string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void (async () => {
        const state = seen ? await Promise.resolve().then(seen).catch((e: unknown) => `(could not read the state: ${String(e)})`) : '';
        reject(new Stalled(`${what}: not done after ${Math.round(ms / 1000)} s${state ? `; ${state}` : ''}`));
      })();
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The hub's job queue as GET /metrics shows it (waiting, active, dead; jobs run per topic): what a stalled phase waited on. */
export async function queueState(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const lines = text.split('\n').filter((l) => /^hummdesk_(queue_depth|jobs_total)\{/.test(l));
  return lines.map((l) => l.replace(/^hummdesk_/, '')).join(', ') || 'no queue metrics';
}
