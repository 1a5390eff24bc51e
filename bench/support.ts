import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import pg from 'pg';
import { PostgresCpu } from './postgres-cpu.js';
import { processCpuMs } from './proc-cpu.js';

export { mainThreadMs } from './proc-cpu.js';

/** Shared bench plumbing: fresh databases, child processes, percentiles. */

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

export async function createDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hd_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Runs a command and waits until `ready` appears in its output (or it exits). */
export async function startProcess(cmd: string, args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 30_000): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d: Buffer) => (out += d.toString());
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(out)) {
    if (child.exitCode !== null) throw new Error(`${cmd} ${args.join(' ')} exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${cmd} ${args.join(' ')} not ready in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, output: () => out };
}

/** Resolves when the child has exited, also when it already had (a once('exit') added after the fact never fires). */
export async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}

export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await once(child, 'exit');
  clearTimeout(timer);
}

export function machine(): string {
  return `${process.platform} ${process.arch}, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

/** CPU time (user + system, ms) a set of local processes has used so far; 0 for one that is gone. */
export function cpuMs(pids: number[]): number {
  return pids.reduce((total, pid) => total + processCpuMs(pid), 0);
}

/** CPU used by one process and by a database's PostgreSQL processes (exited backends included) between start and stop. */
export async function cpuMeter(dbUrl: string, pid: number): Promise<{ stop(): Promise<{ processMs: number; postgresMs: number }> }> {
  const postgres = await PostgresCpu.start(dbUrl);
  const own = cpuMs([pid]);
  return {
    async stop() {
      const processMs = cpuMs([pid]) - own;
      const postgresMs = (await postgres.read()).totalMs;
      await postgres.close();
      return { processMs, postgresMs };
    },
  };
}

/** A web chat visitor of the demo widget, as POST …/sessions answers. */
export interface BenchVisitor { visitorId: string; visitorToken: string }

/** Starts `count` visitors on the demo widget of the hub at `url`. */
export async function demoVisitors(url: string, count: number): Promise<BenchVisitor[]> {
  const visitors: BenchVisitor[] = [];
  for (let i = 0; i < count; i++) {
    const r = await fetch(`${url}/webchat/demo-widget/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `Bench visitor ${i}` }) });
    if (r.status !== 201) throw new Error(`session failed: ${r.status} ${await r.text()}`);
    visitors.push((await r.json()) as BenchVisitor);
  }
  return visitors;
}

/** An autocannon request posting customer messages round-robin over `visitors`, each with its own client id. */
export function customerMessages(visitors: BenchVisitor[], tag: string, text: (i: number) => string) {
  let n = 0;
  return {
    method: 'POST' as const,
    path: '/webchat/demo-widget/messages',
    setupRequest: <R extends object>(req: R) => {
      const i = n++;
      const v = visitors[i % visitors.length]!;
      return {
        ...req,
        headers: { 'content-type': 'application/json', authorization: `Visitor ${v.visitorToken}`, 'x-visitor-id': v.visitorId },
        body: JSON.stringify({ clientMessageId: `${tag}-${i}`, text: text(i) }),
      };
    },
  };
}

/**
 * A process's main thread as the scheduler saw it (ms, Linux schedstat): time on a CPU, and time it was
 * ready to run but waited for one. The wait is CPU contention (other threads, other processes); an
 * event-loop stall is time on the CPU.
 */
export function mainThreadSched(pid: number): { runMs: number; waitMs: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { runMs: run! / 1e6, waitMs: wait! / 1e6 };
  } catch {
    return { runMs: NaN, waitMs: NaN };
  }
}
