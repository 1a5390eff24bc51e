import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, type TestAccount, type TestHub } from '../testing/harness.js';
import { blockText, startSlackFixture, type SlackFixture } from '../testing/slack-fixture.js';
import { call } from '../testing/seed.js';
import { slackOf } from '../install-slack.js';
import { withAccount } from '../../storage/session.js';
import type { AccountEvent } from '../realtime/events.js';
import { SlackDriver, appMessage, appRateLimited, appUninstalled, messageChanged, messageDeleted, personMessage, sharedEnvelope, tokensRevoked } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { envelopeRequest } from '../../connectors/slack/socket-mode.js';
import { slackThreadKey } from '../../connectors/slack/connector.js';

/**
 * Customers in Slack Connect channels, against the emulator and a real hub: a channel the customer's
 * organisation created, our staff writing there, other apps, edits and deletions, files of the other
 * organisation, what Slack sends besides events (ssl_check, app_rate_limited), and uninstalls.
 */

const SIGNING = 'connect-signing-secret';
const OURS = 'T0ACME';
const CUSTOMER = 'T0CUST';
const SHARED = 'C0SHARED';
let f: SlackFixture;
let emulator: SlackEmulator;
let ws: EmulatedWorkspace;
let t: TestHub;
let acct: TestAccount;
const driver = new SlackDriver(SIGNING);
const events: AccountEvent[] = [];

beforeAll(async () => {
  f = await startSlackFixture({
    signing: SIGNING,
    config: { botUserId: 'UBOTACME', appId: 'AHUMMDESK1', defaultTriageChannel: 'C0TRIAGE' },
    workspace: {
      teamId: OURS, botUserId: 'UBOTACME',
      users: (a) => [{ id: 'UAGENT', name: 'aino', realName: 'Aino Agent', email: a.users.agent.email }, { id: 'USTAFF2', name: 'pekka', realName: 'Pekka Unlinked' }],
      // The customer's organisation created the channel and invited us: Slack Connect.
      channels: [{ id: SHARED, name: 'acme-cust-support', isMember: true, isExtShared: true }, { id: 'C0TRIAGE', name: 'triage', isMember: true }],
    },
  });
  ({ emulator, ws, t, acct } = f);
  emulator.addWorkspace({ teamId: CUSTOMER, users: [{ id: 'UCUST', name: 'cara', realName: 'Cara Customer' }], channels: [{ id: SHARED, name: 'acme-cust-support', isMember: false, isExtShared: true }] });
  t.hub.bus.subscribe(acct.accountId, (e) => void events.push(e));
});
afterAll(async () => {
  await f?.close();
});

const deliver = (signed: { body: Buffer; headers: Record<string, string> }) => f.deliver(signed);
const query = <R>(sql: string, params: unknown[] = []) => f.query<R>(sql, params);
/**
 * An event of the shared channel as Slack delivers it to us. Its envelope names the workspace it
 * happened in: ours when we created the channel (the default here, so each test below fails only for
 * its own point), the customer's when they did (the routing tests).
 */
const connect = (event: Record<string, unknown>, eventTeam = OURS) => driver.event(sharedEnvelope({ eventTeam, installedTeam: OURS, botUserId: 'UBOTACME', event }));
const conversationOf = async (rootTs: string) => (await query<{ id: string }>(`SELECT id FROM conversations WHERE thread_key = $1`, [slackThreadKey(acct.channelId, SHARED, rootTs)]))[0]?.id;
const messageOf = async (ts: string) =>
  (await query<{ id: string; text: string; direction: string; authorKind: string; authorUserId: string | null; isPrivate: boolean; deliveryStatus: string | null; metadata: Record<string, unknown> }>(
    `SELECT id, text, direction, author_kind AS "authorKind", author_user_id AS "authorUserId", is_private AS "isPrivate", delivery_status AS "deliveryStatus", metadata FROM messages WHERE external_id = $1`,
    [`${SHARED}:${ts}`],
  ))[0];

/** A customer of the other organisation writes in the shared channel, and Slack delivers the event. */
async function customerWrites(text: string, opts: { threadTs?: string; files?: Record<string, unknown>[]; eventTeam?: string } = {}) {
  const { eventTeam, ...event } = opts;
  const m = emulator.postAsUser(CUSTOMER, SHARED, 'UCUST', text, opts.threadTs, { team: CUSTOMER, user_team: CUSTOMER, source_team: CUSTOMER });
  const res = await deliver(connect(personMessage({ channel: SHARED, user: 'UCUST', userTeam: CUSTOMER, name: 'Cara Customer', text, ts: m.ts, ...event }), eventTeam));
  return { m, res };
}

describe('slack connect: routing', () => {
  it('a customer message in a channel the customer organisation created reaches our installation (Request URL)', async () => {
    const { m, res } = await customerWrites('Our invoice is wrong', { eventTeam: CUSTOMER });
    expect(res.statusCode).toBe(200);
    expect(res.json().results).toEqual(['created']);
    expect(await conversationOf(m.ts)).toBeDefined();
  });

  it('the same over Socket Mode: the envelope goes to our installation, not dropped', async () => {
    const m = emulator.postAsUser(CUSTOMER, SHARED, 'UCUST', 'Also the VAT');
    const payload = sharedEnvelope({ eventTeam: CUSTOMER, installedTeam: OURS, event: personMessage({ channel: SHARED, user: 'UCUST', userTeam: CUSTOMER, text: 'Also the VAT', ts: m.ts }) });
    await slackOf(t.hub)!.handleEnvelope(envelopeRequest({ type: 'events_api', envelope_id: 'e1', payload })!);
    expect((await messageOf(m.ts))?.direction).toBe('inbound');
  });

  it('a modal opened in a Slack Connect channel is routed by view.app_installed_team_id', async () => {
    const res = await deliver(driver.interaction({
      type: 'view_submission', team: { id: CUSTOMER, domain: 'cust' }, user: { id: 'UAGENT', team_id: OURS }, api_app_id: 'AHUMMDESK1',
      view: { id: 'V1', type: 'modal', team_id: CUSTOMER, app_installed_team_id: OURS, callback_id: 'hd_compose', private_metadata: JSON.stringify({ c: '00000000-0000-4000-8000-000000000000', m: 'reply' }), state: { values: { compose: { text: { type: 'plain_text_input', value: '' } } } } },
    }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ response_action: 'errors' });
  });
});

describe('slack connect: what Slack sends besides events', () => {
  it('answers ssl_check (unsigned) and envelope types the hub does not handle with 200', async () => {
    const ssl = await deliver(driver.sslCheck());
    expect(ssl.statusCode).toBe(200);
    const future = await deliver(driver.event({ token: 'x', type: 'app_deleted_future_thing', team_id: OURS, api_app_id: 'AHUMMDESK1' }));
    expect([future.statusCode, future.json().results]).toEqual([200, ['ignored']]);
    // Still verified: a forged one is refused.
    expect((await deliver(driver.event({ type: 'app_deleted_future_thing', team_id: OURS }, { secret: 'forged' }))).statusCode).toBe(401);
  });

  it('app_rate_limited: the missed minute is read back with conversations.history through the normal path, once', async () => {
    // A customer wrote while Slack was dropping our events: no event ever arrives for it.
    const lost = emulator.postAsUser(CUSTOMER, SHARED, 'UCUST', 'Did anyone see this?', undefined, { team: CUSTOMER, user_team: CUSTOMER, source_team: CUSTOMER });
    const minute = Math.floor(Number(lost.ts) / 60) * 60;
    const before = emulator.callsOf('conversations.history').length;
    const res = await deliver(driver.event(appRateLimited(OURS, minute)));
    expect([res.statusCode, res.json().results]).toEqual([200, ['backfill_queued']]);
    const id = await eventually(() => conversationOf(lost.ts), 30_000);
    expect((await messageOf(lost.ts))?.direction).toBe('inbound');
    const readBack = () => emulator.callsOf('conversations.history').slice(before).filter((c) => c.args.channel === SHARED && c.args.oldest === String(minute));
    expect(readBack()[0]!.args).toMatchObject({ latest: String(minute + 60), inclusive: 'true' });
    // Again (Slack may say so twice): nothing is stored twice.
    await deliver(driver.event(appRateLimited(OURS, minute)));
    await eventually(async () => readBack().length >= 2, 30_000);
    await eventually(async () => Number((await query<{ n: string }>(`SELECT count(*) n FROM outbox WHERE topic = 'slack.backfill' AND done_at IS NULL`))[0]!.n) === 0, 30_000);
    expect(await query(`SELECT id FROM messages WHERE conversation_id = $1`, [id])).toHaveLength(1);
  });
});

describe('slack connect: a missed minute in a channel never seen before', () => {
  it('app_rate_limited: a shared channel whose first message fell in that minute is found through users.conversations', async () => {
    ws.channels.push({ id: 'C0NEWSHARE', name: 'acme-newco', isMember: true, isExtShared: true });
    const first = emulator.postAsUser(CUSTOMER, 'C0NEWSHARE', 'UCUST', 'Hello, we just connected', undefined, { team: CUSTOMER, user_team: CUSTOMER, source_team: CUSTOMER });
    await deliver(driver.event(appRateLimited(OURS, Math.floor(Number(first.ts) / 60) * 60)));
    const found = await eventually(async () => (await query<{ id: string }>(`SELECT id FROM conversations WHERE thread_key = $1`, [slackThreadKey(acct.channelId, 'C0NEWSHARE', first.ts)]))[0], 30_000);
    expect(found.id).toBeTruthy();
  });
});

describe('slack connect: our staff and other apps', () => {
  it("our staff's reply in the shared channel is our side of the conversation, by the linked agent; never a new customer conversation", async () => {
    const { m: root } = await customerWrites('Where is my order?');
    const conversationId = (await conversationOf(root.ts))!;
    const staff = emulator.postAsUser(OURS, SHARED, 'UAGENT', 'Checking now', root.ts);
    const res = await deliver(connect(personMessage({ channel: SHARED, user: 'UAGENT', userTeam: OURS, name: 'Aino Agent', text: 'Checking now', ts: staff.ts, threadTs: root.ts })));
    expect(res.json().results).toEqual(['outbound']);
    expect(await messageOf(staff.ts)).toMatchObject({ direction: 'outbound', authorKind: 'agent', authorUserId: acct.users.agent.id, isPrivate: false, deliveryStatus: 'sent' });
    expect((await query<{ status: string }>(`SELECT status FROM conversations WHERE id = $1`, [conversationId]))[0]!.status).toBe('pending');
    // Retried by Slack: still one message.
    await deliver(connect(personMessage({ channel: SHARED, user: 'UAGENT', userTeam: OURS, text: 'Checking now', ts: staff.ts, threadTs: root.ts })));
    expect(await query(`SELECT id FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId])).toHaveLength(1);
    // Staff starting a thread of their own is not a support conversation.
    const own = emulator.postAsUser(OURS, SHARED, 'USTAFF2', 'Maintenance tonight');
    const announce = await deliver(connect(personMessage({ channel: SHARED, user: 'USTAFF2', userTeam: OURS, text: 'Maintenance tonight', ts: own.ts })));
    expect(announce.json().results).toEqual(['ignored']);
    expect(await conversationOf(own.ts)).toBeUndefined();
  });

  it('per installation, staff messages can be internal notes instead', async () => {
    const set = await call(t, acct.users.admin.token, 'PUT', `/api/v1/slack/workspaces/${acct.channelId}/triage`, { staffMessages: 'notes' });
    expect([set.statusCode, set.json().triage.staffMessages]).toEqual([200, 'notes']);
    const { m: root } = await customerWrites('Can I upgrade?');
    const staff = emulator.postAsUser(OURS, SHARED, 'USTAFF2', 'ask sales first', root.ts);
    const res = await deliver(connect(personMessage({ channel: SHARED, user: 'USTAFF2', userTeam: OURS, name: 'Pekka Unlinked', text: 'ask sales first', ts: staff.ts, threadTs: root.ts })));
    expect(res.json().results).toEqual(['note']);
    expect(await messageOf(staff.ts)).toMatchObject({ direction: 'outbound', isPrivate: true, deliveryStatus: null, authorUserId: null });
    await call(t, acct.users.admin.token, 'PUT', `/api/v1/slack/workspaces/${acct.channelId}/triage`, { staffMessages: 'outbound' });
  });

  it("another app's or workflow's post in a customer channel is inbound, not our echo", async () => {
    const post = emulator.postAsUser(CUSTOMER, SHARED, 'U0WFBOT', 'New request from Dana: refund order 7');
    const res = await deliver(connect(appMessage({ channel: SHARED, botId: 'B0WF', appId: 'A0WF', botUserId: 'U0WFBOT', name: 'Intake workflow', text: 'New request from Dana: refund order 7', ts: post.ts })));
    expect(res.json().results).toEqual(['created']);
    expect(await messageOf(post.ts)).toMatchObject({ direction: 'inbound', authorKind: 'contact' });
    // Our own post still comes back as an echo.
    const ours = await deliver(connect(appMessage({ channel: SHARED, botId: ws.botId, appId: 'AHUMMDESK1', botUserId: 'UBOTACME', name: 'HummDesk', text: 'hi', ts: '1700000001.000001' })));
    expect(ours.json().results).toEqual(['echo']);
  });
});

describe('slack connect: edits and deletions', () => {
  it('a burst of message_changed leaves the latest text (realtime listeners told); message_deleted redacts text and files', async () => {
    const { m } = await customerWrites('My order is 123');
    const original = (await messageOf(m.ts))!;
    const base = Math.floor(Number(m.ts));
    const edit = (text: string, k: number) => connect(messageChanged({ channel: SHARED, ts: m.ts, user: 'UCUST', userTeam: CUSTOMER, text, previousText: 'My order is 123', editedTs: `${base + k}.000100` }));
    // Slack may deliver them out of order: the latest edit wins.
    const results = await Promise.all([edit('My order is 1234', 1), edit('My order is 12345', 3), edit('My order is 1235', 2)].map(deliver));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect((await messageOf(m.ts))!.text).toBe('My order is 12345');
    expect(events.some((e) => e.event.type === 'message.edited' && e.event.messageId === original.id && !e.event.deleted)).toBe(true);

    const del = await deliver(connect(messageDeleted({ channel: SHARED, deletedTs: m.ts, eventTs: `${base + 4}.000100`, user: 'UCUST', userTeam: CUSTOMER, previousText: 'My order is 12345' })));
    expect(del.json().results).toEqual(['deleted']);
    const gone = (await messageOf(m.ts))!;
    expect(gone.text).toBe('');
    expect(gone.metadata.deletedAt).toBeTruthy();
    expect(events.some((e) => e.event.type === 'message.edited' && e.event.messageId === original.id && e.event.deleted)).toBe(true);
    // An edit arriving after the deletion does not bring the text back.
    await deliver(edit('resurrected', 5));
    expect((await messageOf(m.ts))!.text).toBe('');
  });
});

describe('slack connect: edits and deletions in the triage thread', () => {
  const postShowing = async (channel: string, rootTs: string, text: string) => eventually(async () => emulator.replies(channel, rootTs).find((p) => blockText(p).includes(text)));
  const now = (channel: string, ts: string) => emulator.messages.find((x) => x.channel === channel && x.ts === ts)!;

  it('an edit updates our thread post in place, marked edited; a deletion replaces it with "message deleted"; the root card follows its own message', async () => {
    const { m: root } = await customerWrites('Where is my parcel?');
    const conversationId = (await eventually(() => conversationOf(root.ts)))!;
    const card = await f.threadOf(conversationId);
    const { m } = await customerWrites('It was order 77', { threadTs: root.ts });
    const post = await postShowing(card.channel, card.ts, 'It was order 77');
    const base = Math.floor(Number(m.ts));
    const postsBefore = emulator.replies(card.channel, card.ts).length;

    const edited = await deliver(connect(messageChanged({ channel: SHARED, ts: m.ts, threadTs: root.ts, user: 'UCUST', userTeam: CUSTOMER, text: 'It was order 78', previousText: 'It was order 77', editedTs: `${base + 1}.000100` })));
    expect(edited.json().results).toEqual(['edited']);
    await eventually(async () => blockText(now(card.channel, post.ts)).includes('It was order 78'));
    expect(blockText(now(card.channel, post.ts))).toContain('Edited');
    expect(blockText(now(card.channel, post.ts))).not.toContain('order 77');
    expect(now(card.channel, post.ts).text).toContain('(edited)');

    const deleted = await deliver(connect(messageDeleted({ channel: SHARED, deletedTs: m.ts, threadTs: root.ts, eventTs: `${base + 2}.000100`, user: 'UCUST', userTeam: CUSTOMER, previousText: 'It was order 78' })));
    expect(deleted.json().results).toEqual(['deleted']);
    await eventually(async () => blockText(now(card.channel, post.ts)).includes('Message deleted'));
    expect(blockText(now(card.channel, post.ts))).not.toContain('order 78');
    // Updated in place: no further post in the thread, and the update went through the intent's record.
    expect(emulator.replies(card.channel, card.ts)).toHaveLength(postsBefore);
    const shown = () => query<{ shown: string }>(`SELECT detail->>'shown' AS shown FROM surface_intents WHERE conversation_id = $1 AND remote_id = $2`, [conversationId, post.ts]);
    await eventually(async () => (await shown())[0]?.shown === 'inbound:deleted');

    // The first message is the root card's: the card is updated with the edit.
    const rootEdit = await deliver(connect(messageChanged({ channel: SHARED, ts: root.ts, user: 'UCUST', userTeam: CUSTOMER, text: 'Where is my parcel 77?', previousText: 'Where is my parcel?', editedTs: `${base + 3}.000100` })));
    expect(rootEdit.json().results).toEqual(['edited']);
    await eventually(async () => blockText(now(card.channel, card.ts)).includes('Where is my parcel 77? (edited)'));
    expect(emulator.replies(card.channel, card.ts)).toHaveLength(postsBefore);
  });
});

describe('slack connect: files of the other organisation', () => {
  const attachmentsOf = async (ts: string) =>
    query<{ name: string | null; blobKey: string | null; state: string | null; error: string | null; attempts: number }>(
      `SELECT a.name, a.blob_key AS "blobKey", a.fetch_state AS state, a.fetch_error AS error, a.fetch_attempts AS attempts FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.external_id = $1`,
      [`${SHARED}:${ts}`],
    );

  it('a check_file_info stub is looked up with files.info, then downloaded', async () => {
    const stub = emulator.addConnectFile(CUSTOMER, [OURS], { name: 'receipt.pdf', mimetype: 'application/pdf', content: Buffer.from('%PDF-1.4 receipt') });
    const { m } = await customerWrites('receipt attached', { files: [stub] });
    const [a] = await eventually(async () => ((await attachmentsOf(m.ts))[0]?.blobKey ? attachmentsOf(m.ts) : undefined), 30_000);
    expect(a).toMatchObject({ name: 'receipt.pdf', state: 'stored' });
    expect(emulator.callsOf('files.info').some((c) => c.args.file === stub.id)).toBe(true);
  });

  it("an agent's note in the triage thread carrying a file stub gets the file through files.info", async () => {
    const { m } = await customerWrites('Any update?');
    const conversationId = (await conversationOf(m.ts))!;
    const card = await eventually(async () => {
      const row = (await query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1 AND active`, [conversationId]))[0];
      return row ? { channel: row.key.split(':')[0]!, ts: row.key.split(':')[1]! } : undefined;
    }, 30_000);
    const stub = emulator.addConnectFile(CUSTOMER, [OURS], { name: 'their-log.txt', mimetype: 'text/plain', content: Buffer.from('log lines') });
    const post = emulator.postAsUser(OURS, card.channel, 'UAGENT', 'their log, for the record', card.ts);
    const res = await deliver(driver.event(sharedEnvelope({ eventTeam: OURS, installedTeam: OURS, event: { ...personMessage({ channel: card.channel, user: 'UAGENT', userTeam: OURS, text: 'their log, for the record', ts: post.ts, threadTs: card.ts, files: [stub] }) } })));
    expect(res.json().results).toEqual(['note']);
    const files = await query<{ name: string; blobKey: string | null }>(`SELECT a.name, a.blob_key AS "blobKey" FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = $1 AND m.is_private`, [conversationId]);
    expect(files).toEqual([{ name: 'their-log.txt', blobKey: expect.any(String) }]);
  });

  it('a download that fails is recorded on the attachment (state, reason), retried by the job queue, not retried on every sync', async () => {
    // Not shared with us: files.info answers file_not_found, for good.
    const hidden = emulator.addConnectFile(CUSTOMER, [], { name: 'secret.pdf', mimetype: 'application/pdf', content: Buffer.from('x') });
    const { m } = await customerWrites('cannot see this one', { files: [hidden] });
    const conversationId = (await conversationOf(m.ts))!;
    const [failed] = await eventually(async () => ((await attachmentsOf(m.ts))[0]?.state === 'failed' ? attachmentsOf(m.ts) : undefined), 30_000);
    expect(failed!.error).toMatch(/file_not_found/);
    const asked = emulator.callsOf('files.info').filter((c) => c.args.file === hidden.id).length;
    await slackOf(t.hub)!.surface.sync(acct.accountId, conversationId);
    expect(emulator.callsOf('files.info').filter((c) => c.args.file === hidden.id)).toHaveLength(asked);

    // A transient failure (429): handed to a slack.files job, which fetches it on a later attempt.
    const flaky = emulator.addConnectFile(CUSTOMER, [OURS], { name: 'photo.png', mimetype: 'image/png', content: Buffer.from('png-bytes') });
    emulator.rateLimitNext('files.info', 1);
    const second = await customerWrites('photo', { files: [flaky] });
    const [fetched] = await eventually(async () => ((await attachmentsOf(second.m.ts))[0]?.state === 'stored' ? attachmentsOf(second.m.ts) : undefined), 30_000);
    expect(fetched!.attempts).toBe(2);
    expect(emulator.callsOf('files.info').filter((c) => c.args.file === flaky.id).map((c) => c.status)).toEqual([429, 200]);
  });
});

describe('slack connect: uninstalls', () => {
  it('app_uninstalled disconnects the installation: tokens erased, audit entry, realtime event, state in the admin API; a retry is still 200', async () => {
    const other = await createTestAccount(t, { channelKind: 'slack', channelKey: 'T0GONE', secrets: { signingSecret: SIGNING, botToken: 'xoxb-gone', appToken: 'xapp-gone' }, config: { botUserId: 'UBOTGONE' } });
    const seen: AccountEvent[] = [];
    t.hub.bus.subscribe(other.accountId, (e) => void seen.push(e));
    // Only user tokens revoked: we keep none, nothing changes.
    expect((await deliver(driver.event(tokensRevoked('T0GONE', { oauth: ['U0SOMEONE'] })))).json().results).toEqual(['ignored']);
    const res = await deliver(driver.event(appUninstalled('T0GONE')));
    expect([res.statusCode, res.json().results]).toEqual([200, ['disconnected']]);
    const row = await withAccount(t.hub.db, other.accountId, async (tx) => (await tx.query<{ enabled: boolean; secretsEnc: string }>(`SELECT enabled, secrets_enc AS "secretsEnc" FROM channels WHERE id = $1`, [other.channelId])).rows[0]!);
    expect(row.enabled).toBe(false);
    expect(t.hub.box.open(row.secretsEnc)).toEqual({ signingSecret: SIGNING });
    const audit = await withAccount(t.hub.db, other.accountId, async (tx) => (await tx.query<{ data: Record<string, unknown> }>(`SELECT data FROM audit_log WHERE action = 'slack.disconnected'`)).rows);
    expect(audit).toEqual([{ data: { reason: 'app_uninstalled', slackTeamId: 'T0GONE' } }]);
    expect(seen.map((e) => e.event)).toContainEqual({ type: 'channel.disconnected', channelId: other.channelId, kind: 'slack', reason: 'app_uninstalled' });
    const listed = (await call(t, other.users.admin.token, 'GET', '/api/v1/slack/workspaces')).json().items[0];
    expect(listed).toMatchObject({ state: 'disconnected', enabled: false, disconnected: { reason: 'app_uninstalled' } });
    // Slack retries, or tokens_revoked follows: answered, not 404.
    expect((await deliver(driver.event(tokensRevoked('T0GONE', { bot: ['UBOTGONE'] })))).statusCode).toBe(200);
  });

  it('tokens_revoked naming our bot disconnects too', async () => {
    const other = await createTestAccount(t, { channelKind: 'slack', channelKey: 'T0REVOKED', secrets: { signingSecret: SIGNING, botToken: 'xoxb-revoked' }, config: { botUserId: 'UBOTREV' } });
    const res = await deliver(driver.event(tokensRevoked('T0REVOKED', { bot: ['UBOTREV'] })));
    expect(res.json().results).toEqual(['disconnected']);
    const listed = (await call(t, other.users.admin.token, 'GET', '/api/v1/slack/workspaces')).json().items[0];
    expect(listed).toMatchObject({ state: 'disconnected', disconnected: { reason: 'tokens_revoked' } });
  });
});
