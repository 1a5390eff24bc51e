import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { ChannelEmulator, TestChannelConnector } from '../testing/test-channel.js';
import { withAccount } from '../../storage/session.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { BotConnectorEmulator, type EmulatedActivity, type EmulatedChannel, type EmulatedMember, type EmulatedTeam } from '../../connectors/teams/testing/emulator.js';
import { TeamsDriver } from '../../connectors/teams/testing/driver.js';
import type { Activity } from '../../connectors/teams/activity.js';
import { installTeams, type TeamsParts } from '../install-teams.js';
import { UNLINKED_TEXT } from './activities.js';
import { insertDraft } from '../../storage/repositories/ai.js';
import { enqueue } from '../../storage/repositories/outbox.js';

let emulator: BotConnectorEmulator;
let driver: TeamsDriver;
let platform: ChannelEmulator;
let t: TestHub;
let acct: TestAccount;
let other: TestAccount;
let customers: ChannelInstallation;
let teams: TeamsParts;
let team: EmulatedTeam;
let secret: EmulatedChannel;
let sales: EmulatedChannel;
let aino: EmulatedMember;
let stranger: EmulatedMember;
let installId: string;

beforeAll(async () => {
  emulator = await BotConnectorEmulator.start({ latencyMs: [0, 5] });
  driver = new TeamsDriver(emulator);
  platform = await ChannelEmulator.start();
  t = await startTestHub({ env: emulator.hubEnv() });
  teams = installTeams(t.hub);
  acct = await createTestAccount(t, { channelKind: 'whatsapp', secrets: {} });
  other = await createTestAccount(t, { channelKind: 'webchat' });
  t.hub.connectors.set('whatsapp', new TestChannelConnector(platform));
  customers = (await findInstallation(t.hub.db, t.hub.box, { kind: 'whatsapp', id: acct.channelId }))!;
  team = emulator.addTeam({ name: 'Support desk' });
  secret = emulator.addChannel(team.id, { name: 'Secret', membershipType: 'private' });
  sales = emulator.addChannel(team.id, { name: 'Sales' });
  aino = emulator.addMember(team.id, { name: 'Aino Agent', email: acct.users.agent.email });
  stranger = emulator.addMember(team.id, { name: 'Stranger', email: 'nobody@elsewhere.test' });
});
afterAll(async () => {
  await t?.close();
  await emulator?.close();
  await platform?.close();
});

const deliver = (a: Activity) => {
  const signed = driver.sign(a);
  return t.app.inject({ method: 'POST', url: '/webhooks/teams', headers: signed.headers, payload: signed.body });
};
const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, token = acct.users.admin.token) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
const query = <R>(sql: string, params: unknown[] = []) => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<R>(sql, params)).rows);

/** A customer message on the customer channel (a new conversation, or the next message of `customer`). */
async function customerWrites(customer: string, text: string): Promise<string> {
  const [outcome] = await t.hub.ingest.ingest(customers, [{
    type: 'message',
    message: {
      channel: { kind: customers.kind, channelId: customers.id }, externalId: `in-${randomBytes(6).toString('hex')}`, threadKey: `${customers.kind}:${customers.id}:${customer}`,
      direction: 'inbound', sender: { externalId: customer, displayName: 'Casey Customer', address: customer, isBot: false }, sentAt: new Date().toISOString(), text, attachments: [], raw: {},
    },
  }]);
  return outcome!.conversationId!;
}

const cardText = (a: EmulatedActivity) => JSON.stringify(a.attachments ?? []);
/** The conversation's root card in `channel`, once posted and recorded (an agent's reply before that is not in a thread of ours yet). */
const rootOf = (channel: string, conversationId: string) =>
  eventually(async () => {
    const root = emulator.roots(channel).find((a) => a.fromBot && cardText(a).includes(conversationId));
    const recorded = root && (await query(`SELECT 1 FROM surface_threads WHERE surface = 'teams' AND surface_key = $1`, [`${channel};messageid=${root.id}`])).length > 0;
    return recorded ? root : undefined;
  }, 60_000);
/** A button's data on the card as Teams shows it now (Action.Execute anywhere in the card). */
function buttonData(card: EmulatedActivity, hd: string): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  const walk = (v: unknown) => {
    if (found || !v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'Action.Execute' && (o.data as { hd?: string } | undefined)?.hd === hd) found = o.data as Record<string, unknown>;
    for (const x of Object.values(o)) walk(x);
  };
  walk(card.attachments);
  return found;
}
const syncNow = async (conversationId: string) => {
  await withAccount(t.hub.db, acct.accountId, (tx) => enqueue(tx, acct.accountId, 'surface.sync', { conversationId }));
  t.hub.runner.kick();
};
const repliesOf = (channel: string, root: EmulatedActivity) => emulator.thread(channel, root.id).filter((a) => a.id !== root.id);

describe('teams end to end', { timeout: 180_000 }, () => {
  it('bot added to a team → a one-time code in General → an admin claims the team with it; nobody else can', async () => {
    expect((await deliver(driver.installed(team, aino))).statusCode).toBe(200);
    // Teams sends an installationUpdate beside it: still one code.
    expect((await deliver(driver.installationUpdate(team, 'add'))).statusCode).toBe(200);
    const posts = emulator.roots(team.id).filter((a) => a.fromBot && /code/.test(a.text ?? ''));
    expect(posts).toHaveLength(1);
    const code = /([A-Z2-9]{4}-[A-Z2-9]{4})/.exec(posts[0]!.text!)![1]!;
    expect((await api('POST', '/msteams/installs', { code: 'AAAA-BBBB' })).json().error.code).toBe('teams_link_code_invalid');
    expect((await api('POST', '/msteams/installs', { code }, acct.users.agent.token)).statusCode).toBe(403);
    const claimed = await api('POST', '/msteams/installs', { code });
    expect(claimed.statusCode).toBe(201);
    const install = claimed.json();
    installId = install.id;
    expect(install).toMatchObject({ teamsTeamId: team.id, tenantId: team.tenantId, aadGroupId: team.aadGroupId, state: 'connected', routing: { defaultChannel: team.id, threadReplies: 'notes' } });
    expect(install.channels).toEqual(expect.arrayContaining([{ id: secret.id, name: 'Secret', type: 'private' }, { id: sales.id, name: 'Sales', type: 'standard' }]));
    // Used once: another account cannot take it with the same code.
    expect((await api('POST', '/msteams/installs', { code }, other.users.admin.token)).json().error.code).toBe('teams_link_code_invalid');
    expect((await api('GET', '/msteams/installs', undefined, other.users.admin.token)).json().items).toEqual([]);
  });

  it('routing takes standard channels of the team only', async () => {
    const put = (body: object) => api('PUT', `/msteams/installs/${installId}/routing`, body);
    const refused = await put({ defaultChannel: secret.id });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.code).toBe('teams_channel_not_standard');
    expect((await put({ defaultChannel: '19:nope@thread.tacv2' })).json().error.code).toBe('teams_channel_unknown');
    const ok = await put({ defaultChannel: sales.id });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().routing.defaultChannel).toBe(sales.id);
  });

  it('customer message → root card in the channel → customer replies → plain thread reply; an agent reply in the thread is a note, acknowledged, once', async () => {
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'Where is my order #42? <at>Everyone</at> **now**');
    const root = await rootOf(sales.id, conversationId);
    expect(cardText(root)).toContain('Where is my order #42?');
    expect(emulator.roots(sales.id).filter((a) => cardText(a).includes(conversationId))).toHaveLength(1);

    await customerWrites(customer, 'Any news? <at>Aino Agent</at>');
    const reply = await eventually(async () => repliesOf(sales.id, root).find((a) => a.text?.includes('Any news?')), 60_000);
    // Plain text: Teams reads no markup or mentions from it.
    expect(reply.textFormat).toBe('plain');
    expect(reply.raw.entities).toBeUndefined();
    expect(reply.text).toContain('<at>Aino Agent</at>');

    const note = driver.message(team, sales.id, 'checking with the warehouse', { rootId: root.id, from: aino });
    expect((await deliver(note)).statusCode).toBe(200);
    expect((await deliver(note)).statusCode).toBe(200); // redelivery
    const notes = await query<{ text: string; isPrivate: boolean; author: string }>(`SELECT text, is_private AS "isPrivate", author_user_id AS author FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId]);
    expect(notes).toEqual([{ text: 'checking with the warehouse', isPrivate: true, author: acct.users.agent.id }]);
    // Linked by email from the roster, in the team's tenant.
    expect((await api('GET', '/msteams/links')).json().items).toEqual(expect.arrayContaining([expect.objectContaining({ userId: acct.users.agent.id, aadObjectId: aino.aadObjectId })]));
    await eventually(async () => repliesOf(sales.id, root).some((a) => a.text?.includes('Saved as an internal note')), 60_000);
    expect(platform.received).toHaveLength(0);
  });

  it('Send draft clicked in Teams (invoke) → the customer receives it once, the clicker gets their view, the shared card follows; a Submit fallback acts alike', async () => {
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'Is my parcel lost?');
    const root = await rootOf(sales.id, conversationId);
    await withAccount(t.hub.db, acct.accountId, (tx) => insertDraft(tx, { accountId: acct.accountId, conversationId, messageId: null, aiResultId: null, text: 'Your parcel is on its way.', extractive: false, citations: [] }));
    await syncNow(conversationId);
    const data = await eventually(async () => buttonData(emulator.thread(sales.id, root.id)[0]!, 'sendDraft'), 60_000);
    const click = driver.invoke(team, sales.id, root.id, root.id, 'sendDraft', data, aino);
    const res = await deliver(click);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    // A double click (the same button again) sends nothing more.
    expect((await deliver(driver.invoke(team, sales.id, root.id, root.id, 'sendDraft', data, aino))).statusCode).toBe(200);
    await eventually(async () => platform.received.find((r) => r.body.to === customer), 60_000);
    expect(platform.received.filter((r) => r.body.to === customer).map((r) => r.body.text)).toEqual(['Your parcel is on its way.']);
    await eventually(async () => repliesOf(sales.id, root).find((a) => a.text?.includes('Your parcel is on its way.') && a.text.includes('✅ Sent')), 60_000);
    // The shared card no longer offers the sent draft.
    await eventually(async () => !buttonData(emulator.thread(sales.id, root.id)[0]!, 'sendDraft'), 60_000);
    const assign = buttonData(emulator.thread(sales.id, root.id)[0]!, 'assignMe')!;
    expect((await deliver(driver.submit(team, sales.id, root.id, root.id, assign, aino))).statusCode).toBe(200);
    await eventually(async () => (await query<{ a: string }>(`SELECT assignee_id AS a FROM conversations WHERE id = $1`, [conversationId]))[0]!.a === acct.users.agent.id, 60_000);
  });

  it('an unlinked user changes nothing and is told; agent files are refused with a message', async () => {
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'Hello there');
    const root = await rootOf(sales.id, conversationId);
    expect((await deliver(driver.message(team, sales.id, 'I am not an agent', { rootId: root.id, from: stranger }))).statusCode).toBe(200);
    await eventually(async () => repliesOf(sales.id, root).some((a) => a.text === UNLINKED_TEXT), 60_000);
    const withFile = { ...driver.message(team, sales.id, 'see attached', { rootId: root.id, from: aino }) };
    withFile.attachments = [...(withFile.attachments ?? []), { contentType: 'application/vnd.microsoft.teams.file.download.info', name: 'invoice.pdf', contentUrl: 'https://contoso.sharepoint.com/invoice.pdf' }];
    expect((await deliver(withFile)).statusCode).toBe(200);
    await eventually(async () => repliesOf(sales.id, root).some((a) => a.text?.startsWith('Nothing was sent: files cannot go')), 60_000);
    expect(await query(`SELECT 1 FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId])).toEqual([]);
  });

  it('replies mode: a thread reply reaches the customer as the agent, its confirmation updated in place', async () => {
    expect((await api('PUT', `/msteams/installs/${installId}/routing`, { threadReplies: 'replies' })).statusCode).toBe(200);
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'Can I change my address?');
    const root = await rootOf(sales.id, conversationId);
    const sent = driver.message(team, sales.id, 'Yes, reply with the new one.', { rootId: root.id, from: aino });
    expect((await deliver(sent)).statusCode).toBe(200);
    expect((await deliver(sent)).statusCode).toBe(200);
    await eventually(async () => platform.received.find((r) => r.body.to === customer), 60_000);
    expect(platform.received.filter((r) => r.body.to === customer).map((r) => r.body.text)).toEqual(['Yes, reply with the new one.']);
    const confirmation = await eventually(async () => repliesOf(sales.id, root).find((a) => a.text?.startsWith('✅ Sent')), 60_000);
    // Written in Teams: only the confirmation, not the text again.
    expect(confirmation.text).not.toContain('Yes, reply');
    expect(repliesOf(sales.id, root).filter((a) => a.text?.includes('Sending') || a.text?.startsWith('✅'))).toHaveLength(1);
    expect((await api('PUT', `/msteams/installs/${installId}/routing`, { threadReplies: 'notes' })).statusCode).toBe(200);
  });

  it('a failed delivery shows in the thread with its reason; moving the conversation to another team marks the old card and opens a new one with the history', async () => {
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'Please move me');
    const root = await rootOf(sales.id, conversationId);
    await customerWrites(customer, 'Second message before the move');
    await eventually(async () => repliesOf(sales.id, root).some((a) => a.text?.includes('Second message before the move')), 60_000);
    platform.respond({ kind: 'rejected', reason: 'number is not on WhatsApp' });
    await t.hub.conversations.reply({ accountId: acct.accountId, kind: 'user', id: acct.users.agent.id }, conversationId, { text: 'We are on it.' });
    await eventually(async () => repliesOf(sales.id, root).find((a) => a.text?.includes('We are on it.') && a.text.includes('Not delivered') && a.text.includes('number is not on WhatsApp')), 60_000);
    // The confirmation was updated in place: one post for the reply.
    expect(repliesOf(sales.id, root).filter((a) => a.text?.includes('We are on it.'))).toHaveLength(1);

    const billing = (await api('POST', '/teams', { name: `billing ${randomBytes(3).toString('hex')}` })).json().id as string;
    expect((await api('PUT', `/msteams/installs/${installId}/routing`, { teams: { [billing]: team.id } })).statusCode).toBe(200);
    await t.hub.conversations.assign({ accountId: acct.accountId, kind: 'user', id: acct.users.admin.id }, conversationId, { teamId: billing });
    const moved = await rootOf(team.id, conversationId);
    await eventually(async () => JSON.stringify(emulator.thread(sales.id, root.id)[0]!.attachments).includes('moved to General'), 60_000);
    await eventually(async () => repliesOf(team.id, moved).some((a) => a.text?.includes('Second message before the move')) && repliesOf(team.id, moved).some((a) => a.text?.includes('We are on it.')), 60_000);
    expect((await api('PUT', `/msteams/installs/${installId}/routing`, { teams: {} })).statusCode).toBe(200);
  });

  it('a 429 from Teams: the thread reply is delivered later, once', async () => {
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'First');
    const root = await rootOf(sales.id, conversationId);
    await eventually(async () => (await query<{ n: number }>(`SELECT count(*)::int n FROM surface_syncs WHERE conversation_id = $1 AND owner IS NULL`, [conversationId]))[0]?.n === 1);
    emulator.failNext(429, { retryAfter: 1 });
    await customerWrites(customer, 'Second, after a 429');
    await eventually(async () => repliesOf(sales.id, root).some((a) => a.text?.includes('Second, after a 429')), 60_000);
    expect(emulator.calls.some((c) => c.status === 429)).toBe(true);
    expect(repliesOf(sales.id, root).filter((a) => a.text?.includes('Second, after a 429'))).toHaveLength(1);
  });

  it('a crash between posting a root card and recording it leaves one card: the retry finds it (Graph) instead of posting again', async () => {
    // The first record of a Teams thread fails after the post went out, as if the process died there.
    await t.hub.db.query(`CREATE SEQUENCE IF NOT EXISTS e2e_crash_once`);
    await t.hub.db.query(`CREATE OR REPLACE FUNCTION e2e_crash_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.surface = 'teams' AND nextval('e2e_crash_once') = 1 THEN RAISE EXCEPTION 'simulated crash after the post'; END IF; RETURN NEW; END $$`);
    await t.hub.db.query(`CREATE TRIGGER e2e_crash_once BEFORE INSERT ON surface_threads FOR EACH ROW EXECUTE FUNCTION e2e_crash_once()`);
    try {
      const customer = `cust-${randomBytes(3).toString('hex')}`;
      const conversationId = await customerWrites(customer, 'Crash-test order');
      await eventually(async () => (await query(`SELECT 1 FROM surface_threads WHERE conversation_id = $1 AND surface = 'teams'`, [conversationId])).length > 0, 60_000);
      expect(Number((await t.hub.db.query<{ n: string }>(`SELECT last_value n FROM e2e_crash_once`)).rows[0]!.n)).toBeGreaterThanOrEqual(2);
      expect(emulator.roots(sales.id).filter((a) => cardText(a).includes(conversationId))).toHaveLength(1);
      const [row] = await query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1`, [conversationId]);
      expect(row!.key).toBe(`${sales.id};messageid=${emulator.roots(sales.id).find((a) => cardText(a).includes(conversationId))!.id}`);
      // The thread works: a later message lands under that one card.
      await customerWrites(customer, 'After the crash');
      const root = await rootOf(sales.id, conversationId);
      await eventually(async () => repliesOf(sales.id, root).some((a) => a.text?.includes('After the crash')), 60_000);
    } finally {
      await t.hub.db.query(`DROP TRIGGER IF EXISTS e2e_crash_once ON surface_threads`);
    }
  });

  it('a thread reply Teams posted before answering 502 is found on the retry (Graph replies), not posted twice', async () => {
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'First');
    const root = await rootOf(sales.id, conversationId);
    await eventually(async () => (await query<{ n: number }>(`SELECT count(*)::int n FROM surface_syncs WHERE conversation_id = $1 AND owner IS NULL`, [conversationId]))[0]?.n === 1);
    const before = emulator.calls.filter((c) => c.status === 502).length;
    emulator.failNext(502, { afterWrite: true });
    await customerWrites(customer, 'Second, posted & then 502 <b>');
    // The retry looked (Graph) and recorded the post it found: done, with the one reply's id.
    const [done] = await eventually(async () => {
      const rows = await query<{ remoteId: string }>(`SELECT remote_id AS "remoteId" FROM surface_intents WHERE conversation_id = $1 AND surface = 'teams' AND intent_key LIKE 'msg:%' AND state = 'done'`, [conversationId]);
      return rows.length ? rows : undefined;
    }, 60_000);
    const failed = emulator.calls.filter((c) => c.status === 502);
    expect(failed.length).toBe(before + 1);
    // What failed was the thread reply itself (a POST into the thread), not a card update.
    expect(failed.at(-1)).toMatchObject({ method: 'POST', path: expect.stringContaining('/activities') });
    const posted = repliesOf(sales.id, root).filter((a) => a.text?.includes('Second, posted & then 502 <b>'));
    expect(posted).toHaveLength(1);
    expect(done!.remoteId).toBe(posted[0]!.id);
  });

  it('per-user views: the shared card refreshes for linked agents by their Teams user ids, the assignee first; a refresh changes nothing', async () => {
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'Per-user views please');
    const root = await rootOf(sales.id, conversationId);
    const refreshOf = (a: EmulatedActivity) => (a.attachments?.[0]?.content as { refresh?: { userIds: string[]; action: { verb: string } } } | undefined)?.refresh;
    const assign = await eventually(async () => buttonData(emulator.thread(sales.id, root.id)[0]!, 'assignMe'), 60_000);
    const last = (await query<{ last: string }>(`SELECT coalesce(max(id), 0)::text AS last FROM outbox`))[0]!.last;
    const res = await deliver(driver.invoke(team, sales.id, root.id, root.id, 'assignMe', assign, aino));
    expect(res.json()).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    // The shared card follows through the one sync the assignment queued with its change, not a second one.
    expect(await query(`SELECT topic FROM outbox WHERE id > $1 AND payload->>'conversationId' = $2`, [last, conversationId])).toEqual([{ topic: 'surface.sync' }]);
    // The agent's Teams user id (MRI) is kept with the link.
    expect(await query(`SELECT teams_mri AS mri FROM users WHERE id = $1`, [acct.users.agent.id])).toEqual([{ mri: aino.id }]);
    expect(res.json().value.refresh.userIds[0]).toBe(aino.id);
    const shared = await eventually(async () => {
      const r = refreshOf(emulator.thread(sales.id, root.id)[0]!);
      return r?.userIds[0] === aino.id ? r : undefined;
    }, 60_000);
    expect(shared.action.verb).toBe('refresh');
    expect(shared.userIds.length).toBeLessThanOrEqual(60);

    // A refresh (Teams asks for a user's view) is read-only: nothing is written, nothing queued, nothing posted.
    const state = () => query(`SELECT c.status, c.assignee_id, c.updated_at, (SELECT count(*)::int FROM outbox WHERE payload->>'conversationId' = c.id::text) AS jobs, (SELECT count(*)::int FROM messages WHERE conversation_id = c.id) AS messages FROM conversations c WHERE c.id = $1`, [conversationId]);
    // Once everything the click queued is done (the shared card's sync included):
    await eventually(async () => (await query<{ n: number }>(
      `SELECT (SELECT count(*)::int FROM outbox WHERE payload->>'conversationId' = $1 AND done_at IS NULL AND dead_at IS NULL)
        + (SELECT count(*)::int FROM surface_syncs WHERE conversation_id::text = $1 AND owner IS NOT NULL) AS n`, [conversationId]))[0]?.n === 0);
    const was = await state();
    const writes = emulator.calls.length;
    const refreshed = await deliver(driver.invoke(team, sales.id, root.id, root.id, 'refresh', { hd: 'refresh', conversationId, v: 'any' }, aino));
    expect(refreshed.json()).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(refreshed.json().value.refresh.userIds[0]).toBe(aino.id);
    expect(await state()).toEqual(was);
    // (Other conversations' syncs may still be writing into their own threads.)
    await eventually(async () => (await query<{ n: number }>(`SELECT count(*)::int n FROM surface_syncs WHERE conversation_id = $1 AND owner IS NOT NULL`, [conversationId]))[0]?.n === 0);
    expect(emulator.calls.slice(writes).filter((c) => c.method !== 'GET' && c.thread === `${sales.id};messageid=${root.id}`)).toEqual([]);
  });

  it('handled activity ids are kept about a week: older claims are pruned as new ones are written; what a note was written in stays on it', async () => {
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'Prune me');
    const root = await rootOf(sales.id, conversationId);
    await query(`INSERT INTO teams_activities (account_id, channel_id, activity_id, created_at) VALUES ($1, $2, 'old-activity', now() - interval '8 days'), ($1, $2, 'recent-activity', now() - interval '6 days')`, [acct.accountId, installId]);
    expect((await deliver(driver.message(team, sales.id, 'a note after a week', { rootId: root.id, from: aino }))).statusCode).toBe(200);
    const ids = (await query<{ id: string }>(`SELECT activity_id AS id FROM teams_activities WHERE channel_id = $1`, [installId])).map((r) => r.id);
    expect(ids).not.toContain('old-activity');
    expect(ids).toContain('recent-activity');
    const [note] = await eventually(async () => {
      const rows = await query<{ writtenIn: string }>(`SELECT metadata->>'writtenIn' AS "writtenIn" FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId]);
      return rows.length ? rows : undefined;
    });
    expect(note!.writtenIn).toBe('teams');
    await eventually(async () => repliesOf(sales.id, root).some((a) => a.text?.includes('Saved as an internal note')), 60_000);
  });

  it('a note written in the thread is stored as written in Teams: a sync that runs before the webhook answers acknowledges it and never posts its text again', async () => {
    const customer = `cust-${randomBytes(3).toString('hex')}`;
    const conversationId = await customerWrites(customer, 'Race me');
    const root = await rootOf(sales.id, conversationId);
    // What a sync of the note would read the moment its request commits (the job may run before the handler's next step).
    await t.hub.db.query(`CREATE TABLE IF NOT EXISTS e2e_sync_saw (message_id uuid, written_in text)`);
    await t.hub.db.query(`CREATE OR REPLACE FUNCTION e2e_sync_saw() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      BEGIN
        IF NEW.topic = 'surface.sync' AND NEW.payload ? 'messageId' THEN
          INSERT INTO e2e_sync_saw SELECT id, metadata->>'writtenIn' FROM messages WHERE id = (NEW.payload->>'messageId')::uuid;
        END IF;
        RETURN NEW;
      END $$`);
    await t.hub.db.query(`CREATE TRIGGER e2e_sync_saw AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION e2e_sync_saw()`);
    try {
      expect((await deliver(driver.message(team, sales.id, 'a note the sync may see early', { rootId: root.id, from: aino }))).statusCode).toBe(200);
      const [note] = await query<{ id: string }>(`SELECT id FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId]);
      expect((await t.hub.db.query<{ writtenIn: string | null }>(`SELECT written_in AS "writtenIn" FROM e2e_sync_saw WHERE message_id = $1`, [note!.id])).rows).toEqual([{ writtenIn: 'teams' }]);
    } finally {
      await t.hub.db.query(`DROP TRIGGER IF EXISTS e2e_sync_saw ON outbox`);
    }
    await eventually(async () => repliesOf(sales.id, root).some((a) => a.text?.includes('Saved as an internal note')), 60_000);
    expect(repliesOf(sales.id, root).filter((a) => a.text?.includes('a note the sync may see early'))).toEqual([]);
  });

  it('a 403 roster refusal, or the bot removed, marks the installation disconnected and tells admins; a reinstall reconnects it', async () => {
    // Teams refuses the bot the roster (removed while no event reached us): the next sync finds out.
    emulator.removeBot(team.id);
    await customerWrites(`cust-${randomBytes(3).toString('hex')}`, 'Anyone there?');
    const refused = await eventually(async () => {
      const item = (await api('GET', '/msteams/installs')).json().items[0];
      return item.state === 'disconnected' ? item : undefined;
    }, 60_000);
    expect(refused.disconnected.reason).toBe('roster_refused');
    team.botInstalled = true;
    expect((await deliver(driver.installed(team))).statusCode).toBe(200);
    expect((await api('GET', '/msteams/installs')).json().items[0].state).toBe('connected');

    expect((await deliver(driver.removed(team))).statusCode).toBe(200);
    const gone = (await api('GET', '/msteams/installs')).json().items[0];
    expect(gone).toMatchObject({ state: 'disconnected', enabled: false, disconnected: { reason: 'bot_removed' } });
    expect(await query(`SELECT data->>'reason' AS reason FROM audit_log WHERE action = 'msteams.disconnected' ORDER BY created_at`)).toEqual([{ reason: 'roster_refused' }, { reason: 'bot_removed' }]);
    expect((await deliver(driver.installed(team))).statusCode).toBe(200);
    expect((await api('GET', '/msteams/installs')).json().items[0]).toMatchObject({ state: 'connected', routing: { defaultChannel: sales.id } });
  });
});
