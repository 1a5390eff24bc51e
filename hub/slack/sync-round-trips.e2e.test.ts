import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText, startSlackFixture, type SlackFixture } from '../testing/slack-fixture.js';
import { countRoundTrips, type RoundTrips } from '../testing/round-trips.js';
import { envelope } from '../../connectors/slack/testing/driver.js';
import { slackThreadKey } from '../../connectors/slack/connector.js';
import { eventually } from '../testing/harness.js';

/**
 * Round trips of a Slack sync that posts a customer's message into its thread: the post's result and the
 * lease given back are each one statement in its own transaction (one round trip on PostgreSQL), not a
 * BEGIN, the statement and a COMMIT.
 */

const SIGNING = 'sync-trips-signing-secret';
let f: SlackFixture;
let trips: RoundTrips;

beforeAll(async () => {
  f = await startSlackFixture({
    signing: SIGNING,
    wrapDb: (db) => {
      const c = countRoundTrips(db);
      trips = c.trips;
      return c.db;
    },
    workspace: {
      teamId: 'T0TRIPS',
      botUserId: 'UBOTTRIPS',
      users: [{ id: 'UCUST', name: 'cara', realName: 'Cara Customer' }],
      channels: [
        { id: 'C0CUST', name: 'customers', isMember: true, isExtShared: true },
        { id: 'C0TRIAGE', name: 'triage', isMember: true },
      ],
    },
    config: { botUserId: 'UBOTTRIPS', customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'notes' },
  });
});
afterAll(() => f?.close());

async function customerWrites(text: string, threadTs?: string) {
  const m = f.emulator.postAsUser('T0TRIPS', 'C0CUST', 'UCUST', text, threadTs);
  const ev = { type: 'message', channel: 'C0CUST', channel_type: 'channel', user: 'UCUST', text, ts: m.ts, user_profile: { real_name: 'Cara Customer', display_name: 'cara' }, ...(threadTs ? { thread_ts: threadTs } : {}) };
  const res = await f.deliver(f.driver.event(envelope('T0TRIPS', ev, { is_ext_shared_channel: true })));
  expect(res.json().results).toEqual(['created']);
  return m;
}

describe('Slack sync round trips', () => {
  it('records a thread post and gives the lease back with one statement each, outside any transaction', async () => {
    const root = await customerWrites('Trips: first');
    const conversationId = (await f.query<{ id: string }>(`SELECT id FROM conversations WHERE thread_key = $1`, [slackThreadKey(f.acct.channelId, 'C0CUST', root.ts)]))[0]!.id;
    const card = await f.threadOf(conversationId);
    // The first sync is over once its lease is given back.
    await eventually(async () => (await f.query(`SELECT 1 FROM surface_syncs WHERE conversation_id = $1 AND owner IS NULL`, [conversationId])).length === 1);
    trips.reset();
    await customerWrites('Trips: second', root.ts);
    await eventually(async () => f.emulator.replies(card.channel, card.ts).some((m) => blockText(m).includes('Trips: second')));
    await eventually(async () => (await f.query(`SELECT 1 FROM surface_syncs WHERE conversation_id = $1 AND owner IS NULL`, [conversationId])).length === 1);
    const inTransactions = new Set(trips.bySession.flat());
    const recorded = trips.sql.filter((s) => s.startsWith(`UPDATE surface_intents SET state = 'done'`));
    const released = trips.sql.filter((s) => s.startsWith('WITH requeued AS'));
    expect(recorded).toHaveLength(1);
    expect(released).toHaveLength(1);
    for (const s of [...recorded, ...released]) expect(inTransactions.has(s), s).toBe(false);
  }, 120_000);
});
