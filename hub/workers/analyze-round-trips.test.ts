import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { ChannelInstallation, InboundEvent } from '../../connectors/core/types.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { countRoundTrips, mostAtOnce, type RoundTrips } from '../testing/round-trips.js';
import { aiStageSessions } from '../queue/ai-stage-budget.js';

let t: TestHub;
let acct: TestAccount;
let channel: ChannelInstallation;
let trips: RoundTrips;
// Polled on a connection of its own, so the test's own reads are not counted.
let watcher: pg.Client;

const inbound = (i: number, text: string): InboundEvent => ({
  type: 'message',
  message: {
    channel: { kind: 'webchat', channelId: channel.id },
    threadKey: `webchat:${channel.id}:visitor-${i}`,
    direction: 'inbound',
    sender: { externalId: `visitor-${i}`, displayName: `Visitor ${i}`, isBot: false },
    sentAt: new Date().toISOString(),
    externalId: `m-${i}`,
    text,
    attachments: [],
    raw: {},
  },
});

beforeAll(async () => {
  t = await startTestHub({ jobs: false, ai: true, wrapDb: (db) => { const c = countRoundTrips(db); trips = c.trips; return c.db; } });
  acct = await createTestAccount(t);
  channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;
  watcher = new pg.Client({ connectionString: t.config.databaseUrl });
  await watcher.connect();
});
afterAll(async () => {
  await watcher?.end();
  await t?.close();
});

const pending = async () => Number((await watcher.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE topic = 'ai.classify' AND done_at IS NULL AND dead_at IS NULL`)).rows[0]!.n);

describe('the AI stage: database round trips per analysed message', () => {
  it('a batch of analyses costs few statements per message', async () => {
    const n = 16;
    const texts = ['My order has not arrived yet', 'I was charged twice for my invoice', 'Thanks for the quick help!', 'The app crashes when I log in'];
    for (let i = 0; i < n; i++) await t.hub.ingest.ingest(channel, [inbound(i, `${texts[i % texts.length]} (${i})`)]);
    // The models load first (one warm-up analysis), so what is counted is the batch's own work.
    await t.hub.ai.provider!.analyze({ accountId: acct.accountId, conversation: { id: 'x', subject: null, channelKind: 'webchat', language: null }, messages: [{ direction: 'inbound', authorKind: 'contact', text: 'warm up', sentAt: new Date().toISOString() }] });
    trips.reset();
    await t.hub.startJobs({ relay: true, work: true });
    await eventually(async () => (await pending()) === 0);
    const results = Number((await watcher.query<{ n: string }>(`SELECT count(*) AS n FROM ai_results`)).rows[0]!.n);
    expect(results).toBe(n);
    // The stage's transactions by what they do; reads that analyses running together share are counted apart.
    const writes = trips.bySession.filter((q) => q.some((x) => x.startsWith('INSERT INTO ai_results')));
    // The stage as installed (installAi) holds at most its share of the pool: the analyses of a batch finish together, their writes queue for it.
    const writeSessions = trips.bySession.flatMap((q, i) => (q.some((x) => x.startsWith('INSERT INTO ai_results')) ? [i] : []));
    expect(mostAtOnce(trips, writeSessions)).toBeLessThanOrEqual(aiStageSessions(t.config.poolSize));
    const searches = trips.bySession.filter((q) => q.some((x) => x.startsWith('WITH v AS')));
    // Analyses finishing together are written in one transaction (storage/grouped-writes.ts): every analysis once, in at most n.
    expect(writes.flat().filter((x) => x.startsWith('INSERT INTO ai_results'))).toHaveLength(n);
    expect(writes.length).toBeLessThanOrEqual(n);
    // The searches (in the customer's language, and in all): each one round trip as the tenant, no transaction (was BEGIN, the active vectors, two searches, COMMIT).
    expect(searches).toEqual([]);
    // One search a message, not two: with no passage outside the customer's language the search in all languages could add nothing.
    expect(trips.sql.filter((x) => x.startsWith('WITH v AS'))).toHaveLength(n);
    // The write: no longer the auto-send policy and the surfaces read one by one inside it, nor the draft
    // retire and each draft as statements of their own (was 10 statements, more with alternative drafts);
    // the conversation, its classification so far and whether drafts are wanted in one read (were three),
    // routing rules read once per transaction (was 7 statements an analysis).
    expect(writes.flat().length / n, writes.map((w) => w.join('\n')).join('\n\n')).toBeLessThanOrEqual(5);
    expect(writes.flat().filter((x) => /autoSend|kind IN \('slack', 'teams'\)/.test(x))).toEqual([]);
    // The read before the model: the conversation and its latest messages, one round trip each as the tenant, no transaction (was BEGIN, two reads, COMMIT).
    expect(trips.bySession.filter((q) => q.some((x) => /NOT m\.is_private ORDER BY m\.sent_at DESC/.test(x)))).toEqual([]);
    expect(trips.sql.filter((x) => /NOT m\.is_private ORDER BY m\.sent_at DESC/.test(x))).toHaveLength(n);
    // The two statements PostgreSQL spent most on planning afresh each time (the history's six-table join,
    // the hybrid search): sent named, so each connection plans them once.
    expect(trips.sql.filter((x) => /NOT m\.is_private ORDER BY m\.sent_at DESC/.test(x) && !trips.prepared.includes(x))).toEqual([]);
    expect(trips.sql.filter((x) => x.startsWith('WITH v AS') && !trips.prepared.includes(x))).toEqual([]);
    // The account's active vectors: read once for the search and its query's model (was once more inside the search's transaction).
    expect(trips.sql.filter((x) => x.includes('FROM kb_index')).length).toBeLessThanOrEqual(n);
    // Reads of one account's settings, provider choice and knowledge-base model: shared, never more than one per message.
    const shared = (re: RegExp) => trips.bySession.filter((q) => q.length === 1 && re.test(q[0]!)).length;
    for (const re of [/settings->'ai'->>'provider'/, /FROM kb_index/, /autoSend/]) expect(shared(re), String(re)).toBeLessThanOrEqual(n);
    const runner = trips.sql.filter((q) => /\boutbox\b/.test(q) && !/^INSERT INTO outbox/.test(q)).length;
    console.log(`round trips per analysed message: ${((trips.total - runner) / n).toFixed(1)}, transactions ${(trips.transactions / n).toFixed(2)}, analysis writes ${n} in ${writes.length} transactions`);
  }, 300_000);
});
