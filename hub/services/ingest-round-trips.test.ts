import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent } from '../../connectors/core/types.js';
import { findInstallation, insertChannel } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { countRoundTrips, type RoundTrips } from '../testing/round-trips.js';

let t: TestHub;
let trips: RoundTrips;
const accounts: TestAccount[] = [];
const channels: ChannelInstallation[] = [];

const inbound = (channel: ChannelInstallation, id: string): InboundEvent => ({
  type: 'message',
  message: {
    channel: { kind: 'webchat', channelId: channel.id },
    threadKey: `webchat:${channel.id}:visitor-${id}`,
    direction: 'inbound',
    sender: { externalId: `visitor-${id}`, displayName: `Visitor ${id}`, isBot: false },
    sentAt: new Date().toISOString(),
    externalId: id,
    text: `Where is my order? (${id})`,
    attachments: [],
    raw: {},
  },
});

beforeAll(async () => {
  // One lane that batches whatever waits: the calls made while the first commits become one batch.
  t = await startTestHub({ jobs: false, env: { HUMMDESK_INGEST_LANES: '1', HUMMDESK_INGEST_BATCH_MIN: '1' }, wrapDb: (db) => { const c = countRoundTrips(db); trips = c.trips; return c.db; } });
  for (let i = 0; i < 3; i++) {
    const a = await createTestAccount(t);
    accounts.push(a);
    channels.push((await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: a.channelId }))!);
  }
});
afterAll(() => t?.close());

describe('ingest: round trips of a batch of several channels', () => {
  it('plain messages of three channels in one batch cost one statement per channel, no transaction', async () => {
    trips.reset();
    // The first call commits alone; the six made meanwhile wait on the lane and are committed as one batch.
    const first = t.hub.ingest.ingest(channels[0]!, [inbound(channels[0]!, 'b-0')]);
    const rest = channels.flatMap((c, k) => [1, 2].map((n) => t.hub.ingest.ingest(c, [inbound(c, `b-${k}-${n}`)])));
    const outcomes = (await Promise.all([first, ...rest])).flat();
    expect(outcomes.map((o) => o.result)).toEqual(Array(7).fill('created'));
    const ingestStatements = trips.sql.filter((s) => s.includes('hd_ingest_messages'));
    // The lone first call, then one statement for each channel of the batch (was BEGIN, tenant, 3 statements, COMMIT).
    expect(ingestStatements).toHaveLength(4);
    expect(trips.transactions).toBe(0);
    expect(trips.total).toBe(4);
    for (const [k, a] of accounts.entries()) {
      const n = await withAccount(t.hub.db, a.accountId, async (tx) => Number((await tx.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE external_id LIKE $1`, [`b-${k}-%`])).rows[0]!.n));
      expect(n).toBe(2);
    }
  });

  it('plain messages of three channels of one account in one batch cost one statement (migration 341)', async () => {
    const a = accounts[0]!;
    const mine = [channels[0]!];
    for (const n of [2, 3]) {
      const row = await withAccount(t.hub.db, a.accountId, (tx) => insertChannel(tx, t.hub.box, { accountId: a.accountId, kind: 'webchat', name: `Chat ${n}`, externalKey: `chat-${n}-${a.accountId}` }));
      mine.push((await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: row.id }))!);
    }
    trips.reset();
    const first = t.hub.ingest.ingest(mine[0]!, [inbound(mine[0]!, 'o-0')]);
    const rest = mine.flatMap((c, k) => [1, 2].map((n) => t.hub.ingest.ingest(c, [inbound(c, `o-${k}-${n}`)])));
    const outcomes = (await Promise.all([first, ...rest])).flat();
    expect(outcomes.map((o) => o.result)).toEqual(Array(7).fill('created'));
    // The lone first call, then the batch's six messages of three channels in one statement.
    expect(trips.sql.filter((s) => s.includes('hd_ingest_'))).toHaveLength(2);
    expect(trips.total).toBe(2);
    const stored = await withAccount(t.hub.db, a.accountId, async (tx) =>
      (await tx.query<{ channel_id: string; n: number }>(`SELECT channel_id, count(*)::int AS n FROM messages WHERE external_id LIKE 'o-%-%' GROUP BY channel_id`)).rows,
    );
    expect(new Map(stored.map((r) => [r.channel_id, r.n]))).toEqual(new Map(mine.map((c) => [c.id, 2])));
    expect(new Set(outcomes.map((o) => o.conversationId)).size).toBe(7);
  });
});
