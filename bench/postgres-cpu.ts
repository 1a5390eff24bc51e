import pg from 'pg';
import { processCpuMs, reapedChildrenMs, statFields } from './proc-cpu.js';

interface Backend { ours: boolean; baseMs: number; lastMs: number }

/**
 * CPU of one database's PostgreSQL processes (its backends, autovacuum and parallel workers, and the
 * server's WAL writer) from `start` on, backends that exit in between included. A sampler keeps every
 * backend's last reading; a backend that exits takes the rest of its CPU with it, which the postmaster's
 * cutime + cstime (what its reaped children used) still shows. On a shared server that growth also holds
 * other databases' exits, so the part no last reading explains is split by the share of exited backends
 * that were this database's.
 */
export class PostgresCpu {
  private readonly backends = new Map<number, Backend>();
  private exitedOursMs = 0;
  private exitedLifetimeMs = 0;
  private exitedOurs = 0;
  private exitedAll = 0;
  private reapedStartMs = 0;
  private timer?: NodeJS.Timeout;
  private sampling: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: pg.Client,
    private readonly postmasterPid: number,
  ) {}

  /** Starts counting now; samples every `sampleMs` so a backend that exits loses at most that much. */
  static async start(url: string, sampleMs = 1000): Promise<PostgresCpu> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const own = (await client.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0]!.pid;
    const meter = new PostgresCpu(client, Number(statFields(`/proc/${own}/stat`)?.[1] ?? 0));
    meter.reapedStartMs = reapedChildrenMs(meter.postmasterPid);
    await meter.sample(true);
    meter.timer = setInterval(() => void meter.queueSample(), sampleMs);
    return meter;
  }

  private queueSample(): Promise<void> {
    return (this.sampling = this.sampling.then(() => this.sample(false)).catch(() => undefined));
  }

  private async sample(first: boolean): Promise<void> {
    const { rows } = await this.client.query<{ pid: number; ours: boolean }>(
      `SELECT pid, coalesce(datname = current_database(), false) OR backend_type = 'walwriter' AS ours
       FROM pg_stat_activity WHERE pid <> pg_backend_pid()`,
    );
    const seen = new Set<number>();
    for (const { pid, ours } of rows) {
      const ms = processCpuMs(pid);
      seen.add(pid);
      const b = this.backends.get(pid);
      if (b) b.lastMs = ms;
      // A backend born after the start used all its CPU inside the window.
      else this.backends.set(pid, { ours, baseMs: first ? ms : 0, lastMs: ms });
    }
    for (const [pid, b] of this.backends) {
      if (seen.has(pid)) continue;
      this.backends.delete(pid);
      this.exitedAll++;
      this.exitedLifetimeMs += b.lastMs;
      if (b.ours) {
        this.exitedOurs++;
        this.exitedOursMs += b.lastMs - b.baseMs;
      }
    }
  }

  /** CPU (ms) used since start: by live processes, by exited ones, and their sum. */
  async read(): Promise<{ liveMs: number; exitedMs: number; totalMs: number }> {
    await this.queueSample();
    let liveMs = 0;
    for (const b of this.backends.values()) if (b.ours) liveMs += b.lastMs - b.baseMs;
    // What exited processes used after their last reading, and short-lived ones never sampled.
    const unexplained = Math.max(0, reapedChildrenMs(this.postmasterPid) - this.reapedStartMs - this.exitedLifetimeMs);
    const exitedMs = this.exitedOursMs + (this.exitedAll ? (unexplained * this.exitedOurs) / this.exitedAll : 0);
    return { liveMs, exitedMs, totalMs: liveMs + exitedMs };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sampling;
    await this.client.end();
  }
}
