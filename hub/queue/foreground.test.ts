import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAccount } from '../../storage/session.js';
import { enqueue } from '../../storage/repositories/outbox.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import type { InProcessRunner } from './in-process.js';
import { ForegroundPressure } from './foreground.js';
import { openResponse } from '../testing/open-response.js';

/** The embedded store (PGlite) runs on the main thread: a backlog of jobs must not hold off HTTP. */
describe('jobs on the embedded store give way to HTTP', () => {
  const BACKLOG = 60;
  let t: TestHub;
  let acct: TestAccount;
  let url: string;

  beforeAll(async () => {
    t = await startTestHub({ embedded: true, jobs: false });
    acct = await createTestAccount(t);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
  });
  afterAll(() => t?.close());

  const done = async () => (await t.hub.metrics.jobs.get()).values.filter((v) => v.labels.topic === 'ai.classify').reduce((sum, v) => sum + v.value, 0);

  it('answers a request sent while a backlog drains before the backlog is done', async () => {
    // Jobs that need nothing but the store (no AI provider is installed): each is a few queries.
    await withAccount(t.hub.db, acct.accountId, async (tx) => {
      for (let i = 0; i < BACKLOG; i++) await enqueue(tx, acct.accountId, 'ai.classify', { conversationId: '00000000-0000-0000-0000-000000000000', messageId: String(i) });
    });
    const before = await done();
    await t.hub.startJobs({ relay: true, work: true });
    const health = await fetch(`${url}/health`);
    // Read at once when the answer is in: how much of the backlog ran before it.
    const ranBefore = (await done()) - before;
    expect(health.status).toBe(200);
    expect(ranBefore).toBeLessThan(BACKLOG);
    await eventually(async () => (await done()) - before >= BACKLOG, 60_000);
  });

  it('makes the runner pause for waiting requests on the embedded store', () => {
    expect((t.hub.runner as InProcessRunner).pacedByRequests).toBe(true);
  });

  it('counts a request as waiting until it is answered, and an event stream only until its headers are out', async () => {
    // A request whose body has not all arrived is received (onRequest ran) and not answered.
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":`);
    await eventually(async () => t.hub.foreground.waiting() === 1);
    socket.end('"a"}'.padEnd(100 - 9, ' '));
    await eventually(async () => t.hub.foreground.waiting() === 0);
    socket.destroy();

    const stream = await fetch(`${url}/api/v1/events`, { headers: { authorization: `Bearer ${acct.users.agent.token}` } });
    expect(stream.status).toBe(200);
    expect(t.hub.foreground.waiting()).toBe(0);
    await stream.body?.cancel();
  });
});

describe('ForegroundPressure: requests weigh by who waits on them', () => {
  const given = (p: Promise<void>) => {
    let done = false;
    void p.then(() => (done = true));
    return () => done;
  };
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  };

  it('a plain request pauses only work that asks to be paced; a waited-on one holds every start until it is answered', async () => {
    const pressure = new ForegroundPressure();
    const plain = openResponse();
    pressure.begin(plain);
    // Unpaced work (jobs on PostgreSQL) takes one turn and goes on beside a plain request.
    await pressure.giveWay({ waitedMs: 60_000 });
    const paced = given(pressure.giveWay({ plainMs: 60_000, waitedMs: 60_000 }));
    await turns(3);
    expect(paced()).toBe(false);
    plain.answer();
    await eventually(async () => paced() || undefined);

    const click = openResponse();
    pressure.begin(click);
    pressure.weigh(click, 'waited');
    expect(pressure.waitedOn()).toBe(1);
    const held = given(pressure.giveWay({ waitedMs: 60_000 }));
    await turns(3);
    expect(held()).toBe(false);
    expect(pressure.givingWay).toBe(1);
    // Answered but its response not yet closed: weighing it plain again releases the hold.
    pressure.weigh(click, 'plain');
    await eventually(async () => held() || undefined);
    expect(pressure.waitedOn()).toBe(0);
    expect(pressure.givingWay).toBe(0);
  });

  it('releases a hold when the last waited-on request ends, not the first', async () => {
    const pressure = new ForegroundPressure();
    const first = openResponse();
    const second = openResponse();
    pressure.begin(first, 'waited');
    pressure.begin(second, 'waited');
    const held = given(pressure.giveWay({ waitedMs: 60_000 }));
    first.answer();
    first.emit('close');
    await turns(3);
    expect(pressure.waitedOn()).toBe(1);
    expect(held()).toBe(false);
    second.answer();
    await eventually(async () => held() || undefined);
  });

  it('lets work start after the bound under a waited-on request that never ends', async () => {
    const pressure = new ForegroundPressure();
    pressure.begin(openResponse(), 'waited');
    const t0 = performance.now();
    await pressure.giveWay({ waitedMs: 50 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(pressure.givingWay).toBe(0);
  });
});
