import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { slackOf } from '../install-slack.js';
import { withAccount } from '../../storage/session.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator, type EmulatedMessage, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { slackThreadKey } from '../../connectors/slack/connector.js';
import { Gate } from '../testing/http-gate.js';

/**
 * The Slack surface against a slow and failing world: Slack calls held open (a gate in front of the
 * emulator), the database failing to record a result, a channel full of other posts. Nothing may be
 * posted twice, and no transaction may stay open while Slack is asked.
 */

const SIGNING = 'intents-signing-secret';
let emulator: SlackEmulator;
let gate: Gate;
let ws: EmulatedWorkspace;
let t: TestHub;
let acct: TestAccount;
const driver = new SlackDriver(SIGNING);

beforeAll(async () => {
  // Like a distributed app outside the Marketplace: at most 15 messages per history read.
  emulator = await SlackEmulator.start({ historyPageLimit: 15 });
  gate = await Gate.start(emulator.url);
  t = await startTestHub({ slack: { slackApiUrl: `${gate.url}/api/`, signingSecret: SIGNING } });
  acct = await createTestAccount(t, {
    channelKind: 'slack',
    channelKey: 'T0ACME',
    secrets: { signingSecret: SIGNING },
    config: { botUserId: 'UBOTACME', customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'notes' },
  });
  ws = emulator.addWorkspace({
    teamId: 'T0ACME',
    botUserId: 'UBOTACME',
    users: [{ id: 'UCUST', name: 'cara', realName: 'Cara Customer' }, { id: 'UNOPROFILE', name: 'nils', realName: 'Nils Noprofile' }],
    channels: [
      { id: 'C0CUST', name: 'shared-customer', isMember: true, isExtShared: true },
      { id: 'C0TRIAGE', name: 'triage', isMember: true },
    ],
  });
  await withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, acct.channelId, { secrets: { signingSecret: SIGNING, botToken: ws.botToken } }));
  // A read budget that lets a search page on at once (a Marketplace app's); the last test keeps the strict one.
  slackOf(t.hub)!.surface.setLimits({ reads: { perMinute: 600, pageSize: 15 } });
});
afterAll(async () => {
  await gate?.close();
  await slackOf(t.hub)?.settled();
  await t?.close();
  await emulator?.close();
});

const deliver = (signed: { body: Buffer; headers: Record<string, string> }) => t.app.inject({ method: 'POST', url: '/webhooks/slack', headers: signed.headers, payload: signed.body });
const query = <R>(sql: string, params: unknown[] = []) => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<R>(sql, params)).rows);
const blockText = (m: EmulatedMessage) => JSON.stringify(m.blocks ?? []);
const surface = () => slackOf(t.hub)!.surface;

async function customerWrites(text: string, opts: { threadTs?: string; files?: unknown[]; user?: string; profile?: boolean } = {}) {
  const user = opts.user ?? 'UCUST';
  const m = emulator.postAsUser('T0ACME', 'C0CUST', user, text, opts.threadTs);
  const ev = {
    type: 'message', channel: 'C0CUST', channel_type: 'channel', user, text, ts: m.ts,
    ...(opts.profile === false ? {} : { user_profile: { real_name: 'Cara Customer', display_name: 'cara' } }),
    ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
    ...(opts.files ? { subtype: 'file_share', files: opts.files } : {}),
  };
  const res = await deliver(driver.event(envelope('T0ACME', ev, { is_ext_shared_channel: true })));
  expect(res.json().results).toEqual(['created']);
  const conversationId = (await query<{ id: string }>(`SELECT id FROM conversations WHERE thread_key = $1`, [slackThreadKey(acct.channelId, 'C0CUST', opts.threadTs ?? m.ts)]))[0]!.id;
  return { m, conversationId };
}

async function threadOf(conversationId: string): Promise<{ channel: string; ts: string }> {
  return eventually(async () => {
    const row = (await query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1 AND active`, [conversationId]))[0];
    if (!row) return undefined;
    const [channel, ts] = row.key.split(':') as [string, string];
    return { channel, ts };
  });
}

/** A file shared in Slack, its URLs through the gate (the hub only sends its token to the API host). */
function slackFile(name: string, content: Buffer) {
  const f = emulator.addFile('T0ACME', { name, mimetype: 'application/pdf', content });
  return { ...f, url_private: f.url_private.replace(emulator.url, gate.url), url_private_download: f.url_private_download.replace(emulator.url, gate.url) };
}

/** Makes the database refuse, once, the write that records a post of the conversation holding `text` (whichever table records it). */
async function failRecordingOnce(name: string, text: string, intentKind: 'msg' | 'files' | 'root'): Promise<() => Promise<void>> {
  const db = t.hub.db;
  await db.query(`CREATE SEQUENCE ${name}_seq`);
  await db.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM messages WHERE conversation_id = NEW.conversation_id AND text = '${text}') AND nextval('${name}_seq') = 1 THEN
        RAISE EXCEPTION 'injected: the post could not be recorded';
      END IF;
      RETURN NEW;
    END $$`);
  const threadWrite = intentKind === 'root' ? 'INSERT' : 'UPDATE';
  await db.query(`CREATE TRIGGER ${name}_threads BEFORE ${threadWrite} ON surface_threads FOR EACH ROW
    WHEN (${intentKind === 'root' ? 'true' : `NEW.data->'posted' IS DISTINCT FROM OLD.data->'posted'`}) EXECUTE FUNCTION ${name}()`);
  // Where results are recorded as intents, the intent's completion is the recording write.
  const intents = (await db.query<{ t: string | null }>(`SELECT to_regclass('surface_intents')::text AS t`)).rows[0]!.t;
  if (intents && intentKind !== 'root')
    await db.query(`CREATE TRIGGER ${name}_intents BEFORE UPDATE ON surface_intents FOR EACH ROW
      WHEN (NEW.state = 'done' AND OLD.state = 'pending' AND NEW.intent_key LIKE '${intentKind}:%') EXECUTE FUNCTION ${name}()`);
  return async () => {
    await db.query(`DROP TRIGGER IF EXISTS ${name}_threads ON surface_threads`);
    if (intents) await db.query(`DROP TRIGGER IF EXISTS ${name}_intents ON surface_intents`);
  };
}

/** Every surface job of the conversation has run to its end (retries included). */
const settled = (conversationId: string) =>
  eventually(async () => (await query(`SELECT 1 FROM outbox WHERE topic = 'surface.sync' AND payload->>'conversationId' = $1 AND done_at IS NULL AND dead_at IS NULL`, [conversationId])).length === 0);

const injected = async (name: string) => Number((await t.hub.db.query<{ n: string; called: boolean }>(`SELECT last_value AS n, is_called AS called FROM ${name}_seq`)).rows[0]!.n);

describe('no Slack call inside a database transaction', () => {
  it('holds no transaction open (nor any lock) while Slack takes its time to answer a post', async () => {
    gate.hold('/api/chat.postMessage');
    const { conversationId } = await customerWrites('Slack is slow today');
    await gate.arrived('/api/chat.postMessage');
    // Transactions of this database that were open before Slack was asked and are still open, idle, afterwards.
    const idle = async () => (await t.hub.db.query<{ pid: number; since: string }>(
      `SELECT pid, xact_start::text AS since FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`,
    )).rows.map((r) => `${r.pid}@${r.since}`);
    const before = await idle();
    await new Promise((r) => setTimeout(r, 300));
    const open = (await idle()).filter((x) => before.includes(x));
    const locks = await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()`);
    // Meanwhile the conversation can be worked on (a request does not wait for Slack).
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/assign`, headers: { authorization: `Bearer ${acct.users.admin.token}` }, payload: { assigneeId: acct.users.agent.id } });
    gate.release('/api/chat.postMessage');
    expect(open).toEqual([]);
    expect(Number(locks.rows[0]!.n)).toBe(0);
    expect(res.statusCode).toBe(200);
    const card = await threadOf(conversationId);
    expect(emulator.roots(card.channel).filter((m) => blockText(m).includes('Slack is slow today'))).toHaveLength(1);
  });

  it('two syncs of one conversation download its Slack file once', async () => {
    gate.hold('/files-pri/');
    const bytes = Buffer.from('%PDF once only');
    const file = slackFile('once.pdf', bytes);
    const { conversationId } = await customerWrites('Here is the contract', { files: [file] });
    await gate.arrived('/files-pri/');
    // A second sync (another job, another process) while the first is fetching: it must not fetch too.
    const second = surface().sync(acct.accountId, conversationId);
    const secondFetch = gate.arrived('/files-pri/', 2).then(() => 'fetched twice');
    const outcome = await Promise.race([second.then(() => 'second sync done'), secondFetch]);
    gate.release('/files-pri/');
    await second;
    expect(outcome).toBe('second sync done');
    const card = await threadOf(conversationId);
    await eventually(async () => emulator.replies(card.channel, card.ts).find((m) => m.files?.some((f) => f.name === 'once.pdf')));
    expect(gate.count('/files-pri/')).toBe(1);
  });
});

describe('a post whose result could not be recorded', () => {
  it('a thread post is found again by its metadata and not posted twice', async () => {
    const { m: root, conversationId } = await customerWrites('First question');
    const card = await threadOf(conversationId);
    const undo = await failRecordingOnce('test_fail_reply', 'Second question, recorded late', 'msg');
    try {
      const repliesBefore = emulator.callsOf('conversations.replies').length;
      await customerWrites('Second question, recorded late', { threadTs: root.ts });
      await settled(conversationId);
      expect(await injected('test_fail_reply')).toBeGreaterThanOrEqual(1);
      await surface().sync(acct.accountId, conversationId);
      expect(emulator.replies(card.channel, card.ts).filter((m) => blockText(m).includes('Second question, recorded late'))).toHaveLength(1);
      expect(emulator.callsOf('conversations.replies').length).toBeGreaterThan(repliesBefore);
    } finally {
      await undo();
    }
  });

  it('a reply with a file: the text goes out once and the file once, though recording the file share failed', async () => {
    const { m: root, conversationId } = await customerWrites('I will send the invoice');
    const card = await threadOf(conversationId);
    const undo = await failRecordingOnce('test_fail_files', 'Invoice attached', 'files');
    try {
      await customerWrites('Invoice attached', { threadTs: root.ts, files: [slackFile('invoice-7.pdf', Buffer.from('%PDF invoice 7'))] });
      await settled(conversationId);
      expect(await injected('test_fail_files')).toBeGreaterThanOrEqual(1);
      await surface().sync(acct.accountId, conversationId);
      const thread = emulator.replies(card.channel, card.ts);
      expect(thread.filter((m) => blockText(m).includes('Invoice attached'))).toHaveLength(1);
      expect(thread.filter((m) => m.files?.some((f) => f.name === 'invoice-7.pdf'))).toHaveLength(1);
    } finally {
      await undo();
    }
  });

  it('a root card is found by paging through a busy channel, 15 messages a read, not posted twice', async () => {
    const undo = await failRecordingOnce('test_fail_root', 'Find my card in a busy channel', 'root');
    gate.hold('/api/conversations.history');
    try {
      const { conversationId } = await customerWrites('Find my card in a busy channel');
      await gate.arrived('/api/conversations.history');
      // While the recovery waits for Slack, the channel fills up: the card is no longer among the newest 15.
      for (let i = 0; i < 20; i++) emulator.postAsUser('T0ACME', 'C0TRIAGE', 'UCUST', `chatter ${i}`);
      gate.release('/api/conversations.history');
      const card = await threadOf(conversationId);
      expect(emulator.roots(card.channel).filter((m) => blockText(m).includes('Find my card in a busy channel'))).toHaveLength(1);
      const reads = emulator.callsOf('conversations.history').filter((c) => c.status === 200);
      expect(reads.some((c) => typeof c.args.cursor === 'string' && c.args.cursor)).toBe(true);
    } finally {
      gate.release('/api/conversations.history');
      await undo();
    }
  });

  it('out of read budget, the search stops, keeps its place and reschedules the job: the card is never posted meanwhile', async () => {
    // 1 read a minute, 15 messages a read: a distributed app outside the Marketplace.
    surface().setLimits({ reads: { perMinute: 1, pageSize: 15 } });
    const undo = await failRecordingOnce('test_fail_budget', 'Find me within the budget', 'root');
    gate.hold('/api/conversations.history');
    try {
      const historyBefore = emulator.callsOf('conversations.history').length;
      const { conversationId } = await customerWrites('Find me within the budget');
      await gate.arrived('/api/conversations.history');
      for (let i = 0; i < 20; i++) emulator.postAsUser('T0ACME', 'C0TRIAGE', 'UCUST', `more chatter ${i}`);
      gate.release('/api/conversations.history');
      const intent = await eventually(async () => (await query<{ cursor: string | null; state: string }>(
        `SELECT detail->>'searchCursor' AS cursor, state FROM surface_intents WHERE conversation_id = $1 AND intent_key LIKE 'root:%'`, [conversationId]))[0]?.cursor && true);
      expect(intent).toBe(true);
      const job = await eventually(async () => (await query<{ waitS: number }>(
        `SELECT extract(epoch FROM run_after - now())::float AS "waitS" FROM outbox WHERE topic = 'surface.sync' AND payload->>'conversationId' = $1 AND done_at IS NULL AND dead_at IS NULL`, [conversationId]))[0]);
      expect(job.waitS).toBeGreaterThan(20);
      expect(emulator.callsOf('conversations.history').length - historyBefore).toBe(1);
      expect(emulator.roots('C0TRIAGE').filter((m) => blockText(m).includes('Find me within the budget'))).toHaveLength(1);
      expect(await query(`SELECT 1 FROM surface_threads WHERE conversation_id = $1`, [conversationId])).toHaveLength(0);
    } finally {
      gate.release('/api/conversations.history');
      await undo();
      surface().setLimits({ reads: { perMinute: 600, pageSize: 15 } });
    }
  });
});

describe('coalescing', () => {
  it('customer messages that arrive while the channel is busy share one thread post', async () => {
    const { m: root, conversationId } = await customerWrites('Coalesce: first');
    const card = await threadOf(conversationId);
    gate.hold('/api/chat.postMessage');
    await customerWrites('Coalesce: second', { threadTs: root.ts });
    await gate.arrived('/api/chat.postMessage');
    for (const n of ['third', 'fourth', 'fifth']) await customerWrites(`Coalesce: ${n}`, { threadTs: root.ts });
    gate.release('/api/chat.postMessage');
    await eventually(async () => emulator.replies(card.channel, card.ts).find((m) => blockText(m).includes('Coalesce: fifth')));
    await slackOf(t.hub)!.settled();
    await surface().sync(acct.accountId, conversationId);
    const posts = emulator.replies(card.channel, card.ts).filter((m) => /Coalesce: (second|third|fourth|fifth)/.test(blockText(m)));
    expect(posts.map((m) => ['second', 'third', 'fourth', 'fifth'].filter((n) => blockText(m).includes(`Coalesce: ${n}`)))).toEqual([['second'], ['third', 'fourth', 'fifth']]);
  });

  it('the round for messages that came meanwhile, refused by Slack (429), is posted when its job comes back', async () => {
    const { m: root, conversationId } = await customerWrites('Refused round: first');
    const card = await threadOf(conversationId);
    gate.hold('/api/chat.postMessage');
    await customerWrites('Refused round: second', { threadTs: root.ts });
    await gate.arrived('/api/chat.postMessage');
    for (const n of ['third', 'fourth']) await customerWrites(`Refused round: ${n}`, { threadTs: root.ts });
    // The held post goes out; the next round's post (the messages that came meanwhile) is held in turn, then refused.
    gate.release('/api/chat.postMessage');
    gate.hold('/api/chat.postMessage');
    await gate.arrived('/api/chat.postMessage');
    const refusedBefore = emulator.callsOf('chat.postMessage').filter((c) => c.status === 429).length;
    emulator.rateLimitNext('chat.postMessage', 1);
    gate.release('/api/chat.postMessage');
    await eventually(async () => emulator.callsOf('chat.postMessage').filter((c) => c.status === 429).length > refusedBefore);
    await settled(conversationId);
    const posts = emulator.replies(card.channel, card.ts).filter((m) => /Refused round: (second|third|fourth)/.test(blockText(m)));
    expect(posts.map((m) => ['second', 'third', 'fourth'].filter((n) => blockText(m).includes(`Refused round: ${n}`)))).toEqual([['second'], ['third', 'fourth']]);
  });
});

describe('customer names', () => {
  it('a users.info refused with 429 is asked again after Retry-After, so the card gets the name', async () => {
    emulator.rateLimitNext('users.info', 1);
    const { conversationId } = await customerWrites('Hello, no profile in this event', { user: 'UNOPROFILE', profile: false });
    const card = await threadOf(conversationId);
    await settled(conversationId);
    expect(emulator.callsOf('users.info')[0]!.status).toBe(429);
    const root = () => emulator.messages.find((m) => m.channel === card.channel && m.ts === card.ts)!;
    await eventually(async () => {
      await surface().sync(acct.accountId, conversationId);
      return blockText(root()).includes('Nils Noprofile');
    }, 20_000);
    expect(emulator.callsOf('users.info').filter((c) => c.status === 200)).toHaveLength(1);
  });
});
