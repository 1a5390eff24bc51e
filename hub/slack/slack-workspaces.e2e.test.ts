import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, syncSurface, type TestAccount, type TestHub } from '../testing/harness.js';
import { blockText, startSlackFixture, type SlackFixture } from '../testing/slack-fixture.js';
import { call } from '../testing/seed.js';
import { slackOf } from '../install-slack.js';
import { withAccount } from '../../storage/session.js';
import { insertChannel } from '../../storage/repositories/channels.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator, type EmulatedMessage, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { slackThreadKey } from '../../connectors/slack/connector.js';

/** Files both ways, moving a conversation between teams and workspaces, and the Slack admin API. */

const SIGNING = 'workspaces-signing-secret';
let f: SlackFixture;
let emulator: SlackEmulator;
let acme: EmulatedWorkspace;
let other: EmulatedWorkspace;
let t: TestHub;
let acct: TestAccount;
let otherInstall: string;
const driver = new SlackDriver(SIGNING);

beforeAll(async () => {
  f = await startSlackFixture({
    signing: SIGNING,
    config: { botUserId: 'UBOTACME', customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'replies' },
    workspace: {
      teamId: 'T0ACME',
      botUserId: 'UBOTACME',
      users: (a) => [
        { id: 'UAGENT', name: 'aino', realName: 'Aino Agent', email: a.users.agent.email },
        { id: 'UADMINSLACK', name: 'otto', realName: 'Otto Admin', email: 'otto@private.test' },
        { id: 'UCUST', name: 'cara', realName: 'Cara Customer' },
        { id: 'UNOPROFILE', name: 'nils', realName: 'Nils Noprofile' },
      ],
      channels: [
        { id: 'C0CUST', name: 'shared-customer', isMember: true, isExtShared: true },
        { id: 'C0TRIAGE', name: 'triage', isMember: true },
        { id: 'C0INBOX', name: 'triage-slack-inbox', isMember: true },
      ],
    },
  });
  ({ emulator, t, acct, ws: acme } = f);
  other = emulator.addWorkspace({ teamId: 'T0OTHER', botUserId: 'UBOTOTHER', users: [{ id: 'UBAGENT', name: 'bea' }], channels: [{ id: 'C0BTRIAGE', name: 'team-b-triage', isMember: false }] });
  await withAccount(t.hub.db, acct.accountId, async (tx) => {
    otherInstall = (await insertChannel(tx, t.hub.box, { accountId: acct.accountId, kind: 'slack', name: 'Slack: Other', externalKey: 'T0OTHER', secrets: { signingSecret: SIGNING, botToken: other.botToken }, config: { botUserId: 'UBOTOTHER' } })).id;
  });
});
afterAll(async () => {
  await f?.close();
});

const deliver = (signed: { body: Buffer; headers: Record<string, string> }) => f.deliver(signed);
const query = <R>(sql: string, params: unknown[] = []) => f.query<R>(sql, params);
const admin = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown) => call(t, acct.users.admin.token, method, `/api/v1${url}`, body);
const hasFile = (name: string) => (m: EmulatedMessage) => m.files?.some((f) => f.name === name) ?? false;

async function customerWrites(text: string, opts: { threadTs?: string; files?: unknown[]; profile?: boolean; user?: string } = {}) {
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

const threadOf = (conversationId: string) => f.threadOf(conversationId);

describe('files', () => {
  it("a customer's Slack file is fetched with the bot token into the blob store and uploaded into the triage thread", async () => {
    const pdf = Buffer.from('%PDF-1.4 invoice 42');
    const shot = Buffer.from('PNG screenshot bytes');
    const invoice = emulator.addFile('T0ACME', { name: 'invoice.pdf', mimetype: 'application/pdf', content: pdf });
    const { m: root, conversationId } = await customerWrites('My invoice is wrong, see attached', { files: [invoice] });
    const card = await threadOf(conversationId);
    const inThread = await eventually(async () => emulator.replies(card.channel, card.ts).find(hasFile('invoice.pdf')));
    expect(inThread.files![0]!.size).toBe(pdf.length);
    expect([...emulator.uploads.values()].find((u) => u.filename === 'invoice.pdf')!.bytes).toEqual(pdf);
    const stored = await query<{ blobKey: string }>(`SELECT blob_key AS "blobKey" FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = $1`, [conversationId]);
    expect(await t.hub.blobs.get(stored[0]!.blobKey)).toEqual(pdf);
    // Only our bot token of that workspace opened the file.
    expect(emulator.calls.filter((c) => c.method === 'files-pri').every((c) => c.team === 'T0ACME' && c.status === 200)).toBe(true);

    // A later message's file lands in the same thread, once, even after further syncs.
    const screenshot = emulator.addFile('T0ACME', { name: 'screenshot.png', mimetype: 'image/png', content: shot });
    await customerWrites('And a screenshot', { threadTs: root.ts, files: [screenshot] });
    await eventually(async () => emulator.replies(card.channel, card.ts).find(hasFile('screenshot.png')));
    await syncSurface(slackOf(t.hub)!.surface, acct.accountId, conversationId);
    expect(emulator.replies(card.channel, card.ts).filter((m) => m.files?.length)).toHaveLength(2);
  });

  it("an agent's file in a thread reply reaches the customer with the reply", async () => {
    const { m: root, conversationId } = await customerWrites('Can you send the shipping label?');
    const card = await threadOf(conversationId);
    const label = Buffer.from('%PDF label for order 7');
    const f = emulator.addFile('T0ACME', { name: 'label.pdf', mimetype: 'application/pdf', content: label });
    const post = emulator.postAsUser('T0ACME', card.channel, 'UAGENT', 'Here is the label', card.ts);
    const res = await deliver(driver.event(envelope('T0ACME', { type: 'message', subtype: 'file_share', channel: card.channel, user: 'UAGENT', text: 'Here is the label', ts: post.ts, thread_ts: card.ts, files: [f] })));
    expect(res.json().results).toEqual(['reply']);
    await eventually(async () => emulator.replies('C0CUST', root.ts).find(hasFile('label.pdf')));
    expect(emulator.replies('C0CUST', root.ts).map((m) => m.text)).toContain('Here is the label');
    expect([...emulator.uploads.values()].find((u) => u.filename === 'label.pdf')!.bytes).toEqual(label);
    const outbound = await query<{ name: string; blobKey: string | null }>(
      `SELECT a.name, a.blob_key AS "blobKey" FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = $1 AND m.direction = 'outbound'`, [conversationId]);
    expect(outbound).toEqual([{ name: 'label.pdf', blobKey: expect.any(String) }]);
    // The file was written in Slack: it is not uploaded into the triage thread a second time.
    await slackOf(t.hub)!.settled();
    await syncSurface(slackOf(t.hub)!.surface, acct.accountId, conversationId);
    expect(emulator.replies(card.channel, card.ts).filter(hasFile('label.pdf'))).toHaveLength(0);
  });

  it('sends nothing when an agent\'s file cannot be fetched, and says so', async () => {
    const { m: root, conversationId } = await customerWrites('One more question');
    const card = await threadOf(conversationId);
    const f = { ...emulator.addFile('T0ACME', { name: 'gone.pdf', mimetype: 'application/pdf', content: Buffer.from('x') }) };
    f.url_private_download = f.url_private_download.replace(/F[A-Z0-9]+/, 'FMISSING0');
    const post = emulator.postAsUser('T0ACME', card.channel, 'UAGENT', 'see file', card.ts);
    const res = await deliver(driver.event(envelope('T0ACME', { type: 'message', subtype: 'file_share', channel: card.channel, user: 'UAGENT', text: 'see file', ts: post.ts, thread_ts: card.ts, files: [f] })));
    expect(res.json().results).toEqual(['file_failed']);
    expect(emulator.ephemerals.at(-1)!.text).toMatch(/Nothing was sent/);
    expect(await query(`SELECT 1 FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId])).toHaveLength(0);
    expect(emulator.replies('C0CUST', root.ts)).toHaveLength(0);
  });
});

describe('customer names', () => {
  it('looks a customer up with users.info when the event has no user_profile, once', async () => {
    const { m: root, conversationId } = await customerWrites('Hello without a profile', { profile: false, user: 'UNOPROFILE' });
    const card = await threadOf(conversationId);
    const cardMessage = () => emulator.messages.find((m) => m.channel === card.channel && m.ts === card.ts)!;
    expect(blockText(cardMessage())).toContain('Nils Noprofile');
    expect((await query<{ name: string }>(`SELECT ct.name FROM contacts ct JOIN conversations c ON c.contact_id = ct.id WHERE c.id = $1`, [conversationId]))[0]!.name).toBe('Nils Noprofile');
    await customerWrites('Still no profile', { profile: false, user: 'UNOPROFILE', threadTs: root.ts });
    await eventually(async () => emulator.replies(card.channel, card.ts).find((m) => blockText(m).includes('Still no profile')));
    expect(emulator.callsOf('users.info').filter((c) => c.args.user === 'UNOPROFILE')).toHaveLength(1);
  });

  // The 429's Retry-After (1 s) is honoured for users.info alone, not at the history read budget (1 a minute).
  it('does not cache a failed users.info (a 429) as "no name": a later sync asks again and names the customer', async () => {
    acme.users.push({ id: 'ULIMITED', name: 'lia', realName: 'Lia Limited' });
    emulator.rateLimitNext('users.info', 1, 1);
    const { m: root, conversationId } = await customerWrites('Hello while Slack limits users.info', { profile: false, user: 'ULIMITED' });
    const card = await threadOf(conversationId);
    const cardMessage = () => emulator.messages.find((m) => m.channel === card.channel && m.ts === card.ts)!;
    expect(emulator.callsOf('users.info').filter((c) => c.args.user === 'ULIMITED').map((c) => c.status)).toEqual([429]);
    expect(blockText(cardMessage())).not.toContain('Lia Limited');
    await customerWrites('Second message', { profile: false, user: 'ULIMITED', threadTs: root.ts });
    // A later sync, once the 429's Retry-After has passed (the hub honours it), asks again and names the customer.
    await eventually(async () => {
      await syncSurface(slackOf(t.hub)!.surface, acct.accountId, conversationId);
      return blockText(cardMessage()).includes('Lia Limited');
    }, 30_000);
    expect(emulator.callsOf('users.info').filter((c) => c.args.user === 'ULIMITED').map((c) => c.status)).toEqual([429, 200]);
  });
});

describe('teams, inboxes and workspaces', () => {
  it('moving a conversation to a team of another workspace marks the old root and opens a new one with the history', async () => {
    const teamB = (await admin('POST', '/teams', { name: 'Team B' })).json<{ id: string }>().id;
    const set = await admin('PUT', `/slack/workspaces/${otherInstall}/triage`, { teams: { [teamB]: 'C0BTRIAGE' } });
    expect(set.statusCode, set.body).toBe(200);
    const { m: root, conversationId } = await customerWrites('Question for team B');
    await customerWrites('Second line of the question', { threadTs: root.ts });
    const old = await threadOf(conversationId);
    expect(old.channel).toBe('C0TRIAGE');
    await eventually(async () => emulator.replies('C0TRIAGE', old.ts).find((m) => blockText(m).includes('Second line')));

    expect((await admin('POST', `/conversations/${conversationId}/assign`, { teamId: teamB })).statusCode).toBe(200);
    const moved = await eventually(async () => {
      const th = await threadOf(conversationId);
      return th.channel === 'C0BTRIAGE' && th;
    });
    const newRoot = emulator.messages.find((m) => m.channel === 'C0BTRIAGE' && m.ts === moved.ts)!;
    expect(newRoot.team).toBe('T0OTHER');
    expect(blockText(newRoot), blockText(newRoot)).toContain('Question for team B');
    // History comes along as thread replies; the bot joined the public channel of the other workspace.
    await eventually(async () => emulator.replies('C0BTRIAGE', moved.ts).find((m) => blockText(m).includes('Second line')));
    const oldCard = emulator.messages.find((m) => m.channel === 'C0TRIAGE' && m.ts === old.ts)!;
    expect(oldCard.text).toContain('<#C0BTRIAGE>');
    expect(blockText(oldCard)).toContain('moved');
    expect(await query(`SELECT data->>'movedTo' AS "movedTo", active FROM surface_threads WHERE conversation_id = $1 ORDER BY created_at`, [conversationId])).toEqual([
      { movedTo: 'C0BTRIAGE', active: false },
      { movedTo: null, active: true },
    ]);
    // Later messages go to the new thread only.
    await customerWrites('Third line after the move', { threadTs: root.ts });
    await eventually(async () => emulator.replies('C0BTRIAGE', moved.ts).find((m) => blockText(m).includes('Third line')));
    expect(emulator.replies('C0TRIAGE', old.ts).filter((m) => blockText(m).includes('Third line'))).toHaveLength(0);
  });

  it('an inbox with its own triage channel gets its conversations there', async () => {
    const set = await admin('PUT', `/slack/workspaces/${acct.channelId}/triage`, { inboxes: { [acct.channelId]: 'C0INBOX' } });
    expect(set.statusCode, set.body).toBe(200);
    const { conversationId } = await customerWrites('Routed by inbox');
    expect((await threadOf(conversationId)).channel).toBe('C0INBOX');
    // A message written in that channel is an agent's, never a customer's.
    const m = emulator.postAsUser('T0ACME', 'C0INBOX', 'UCUST', 'top-level chatter');
    const res = await deliver(driver.event(envelope('T0ACME', { type: 'message', channel: 'C0INBOX', user: 'UCUST', text: 'top-level chatter', ts: m.ts })));
    expect(res.json().results).toEqual(['ignored']);
  });

  it('lists workspaces and refuses ambiguous or unknown triage settings', async () => {
    const list = (await admin('GET', '/slack/workspaces')).json<{ items: { id: string; slackTeamId: string; triage: { teams: Record<string, string>; inboxes: Record<string, string>; defaultChannel: string | null } }[] }>().items;
    expect(list.map((w) => w.slackTeamId)).toEqual(['T0ACME', 'T0OTHER']);
    expect(list[0]!.triage).toMatchObject({ defaultChannel: 'C0TRIAGE', inboxes: { [acct.channelId]: 'C0INBOX' } });
    const teamB = Object.keys(list[1]!.triage.teams)[0]!;
    const taken = await admin('PUT', `/slack/workspaces/${acct.channelId}/triage`, { teams: { [teamB]: 'C0TRIAGE' } });
    expect([taken.statusCode, taken.json().error.code]).toEqual([409, 'slack_triage_taken']);
    const overlap = await admin('PUT', `/slack/workspaces/${acct.channelId}/triage`, { customerChannels: ['C0CUST', 'C0TRIAGE'] });
    expect([overlap.statusCode, overlap.json().error.code]).toEqual([400, 'slack_channel_role_conflict']);
    const unknown = await admin('PUT', `/slack/workspaces/${acct.channelId}/triage`, { teams: { '00000000-0000-4000-8000-000000000000': 'C0TRIAGE' } });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([400, 'team_not_found']);
    expect((await admin('PUT', `/slack/workspaces/${acct.channelId}/triage`, { defaultChannel: 'not-a-channel' })).statusCode).toBe(400);
    expect((await call(t, acct.users.agent.token, 'GET', '/api/v1/slack/workspaces')).statusCode).toBe(403);
  });

  it('an admin links a Slack user to an agent explicitly (checked with users.info), and the link is used', async () => {
    const target = acct.users.owner.id;
    const missing = await admin('PUT', `/slack/links/${target}`, { slackUserId: 'UNOSUCH', workspaceId: acct.channelId });
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'slack_user_not_found']);
    const linked = await admin('PUT', `/slack/links/${target}`, { slackUserId: 'UADMINSLACK', workspaceId: acct.channelId });
    expect(linked.json()).toMatchObject({ userId: target, slackUserId: 'UADMINSLACK' });
    const twice = await admin('PUT', `/slack/links/${acct.users.agent.id}`, { slackUserId: 'UADMINSLACK' });
    expect([twice.statusCode, twice.json().error.code]).toEqual([409, 'slack_user_taken']);
    expect((await admin('PUT', `/slack/links/${acct.users.viewer.id}`, { slackUserId: 'UVIEW1' })).json().error.code).toBe('viewer_cannot_link');
    expect((await admin('GET', '/slack/links')).json().items).toContainEqual(expect.objectContaining({ userId: target, slackUserId: 'UADMINSLACK' }));

    // Otto's Slack email matches nobody, so only the explicit link makes his reply count.
    const { m: root, conversationId } = await customerWrites('Linked reply please');
    const card = await threadOf(conversationId);
    const post = emulator.postAsUser('T0ACME', card.channel, 'UADMINSLACK', 'Answer from Otto', card.ts);
    const res = await deliver(driver.event(envelope('T0ACME', { type: 'message', channel: card.channel, user: 'UADMINSLACK', text: 'Answer from Otto', ts: post.ts, thread_ts: card.ts })));
    expect(res.json().results).toEqual(['reply']);
    await eventually(async () => emulator.replies('C0CUST', root.ts).find((m) => m.text === 'Answer from Otto'));

    expect((await admin('DELETE', `/slack/links/${target}`)).statusCode).toBe(204);
    const post2 = emulator.postAsUser('T0ACME', card.channel, 'UADMINSLACK', 'Again', card.ts);
    const res2 = await deliver(driver.event(envelope('T0ACME', { type: 'message', channel: card.channel, user: 'UADMINSLACK', text: 'Again', ts: post2.ts, thread_ts: card.ts })));
    expect(res2.json().results).toEqual(['unlinked']);
  });
});

describe('recovery', () => {
  it('a root card posted but not recorded (the transaction failed) is found again by its metadata, not posted twice', async () => {
    // A real failure in the database, once, for this conversation's thread row only.
    await t.hub.db.query(`CREATE SEQUENCE test_thread_failures`);
    await t.hub.db.query(`CREATE FUNCTION test_fail_first_thread() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM messages WHERE conversation_id = NEW.conversation_id AND text = 'Record me once') AND nextval('test_thread_failures') = 1 THEN
          RAISE EXCEPTION 'injected: the thread could not be recorded';
        END IF;
        RETURN NEW;
      END $$`);
    await t.hub.db.query(`CREATE TRIGGER test_fail_first_thread BEFORE INSERT ON surface_threads FOR EACH ROW EXECUTE FUNCTION test_fail_first_thread()`);
    try {
      const historyBefore = emulator.callsOf('conversations.history').length;
      const { conversationId } = await customerWrites('Record me once');
      const card = await threadOf(conversationId);
      expect(Number((await t.hub.db.query<{ n: string }>(`SELECT last_value AS n FROM test_thread_failures`)).rows[0]!.n)).toBeGreaterThanOrEqual(1);
      expect(emulator.roots(card.channel).filter((m) => blockText(m).includes('Record me once'))).toHaveLength(1);
      expect(emulator.callsOf('conversations.history').length).toBeGreaterThan(historyBefore);
      expect(emulator.messages.find((m) => m.channel === card.channel && m.ts === card.ts)!.metadata!.event_type).toBe('hummdesk_conversation');
      expect(emulator.messages.find((m) => m.channel === card.channel && m.ts === card.ts)!.metadata!.event_payload).toMatchObject({ conversation_id: conversationId });
      expect(await query(`SELECT state, remote_id AS "remoteId" FROM surface_intents WHERE conversation_id = $1 AND intent_key LIKE 'root:%'`, [conversationId])).toEqual([{ state: 'done', remoteId: card.ts }]);
    } finally {
      await t.hub.db.query(`DROP TRIGGER test_fail_first_thread ON surface_threads`);
    }
  });
});
