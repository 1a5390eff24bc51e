import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, syncSurface, type TestAccount, type TestHub } from '../testing/harness.js';
import { blockText, startSlackFixture, type SlackFixture } from '../testing/slack-fixture.js';
import { slackOf } from '../install-slack.js';
import { withAccount } from '../../storage/session.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { insertDraft } from '../../storage/repositories/ai.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { SlackEmulator, type EmulatedMessage, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { slackThreadKey } from '../../connectors/slack/connector.js';

const SIGNING = 'e2e-signing-secret';
let f: SlackFixture;
let emulator: SlackEmulator;
let ws: EmulatedWorkspace;
let t: TestHub;
let acct: TestAccount;
const driver = new SlackDriver(SIGNING);

beforeAll(async () => {
  f = await startSlackFixture({
    signing: SIGNING,
    slack: { clientId: '1111.2222', clientSecret: 'emulated-client-secret' },
    config: { botUserId: 'UBOTACME', customerChannels: ['C0CUST'], defaultTriageChannel: 'C0TRIAGE', threadReplies: 'notes' },
    workspace: {
      teamId: 'T0ACME',
      botUserId: 'UBOTACME',
      users: (a) => [
        { id: 'UAGENT', name: 'aino', realName: 'Aino Agent', email: a.users.agent.email },
        { id: 'USTRANGER', name: 'stranger', email: 'nobody@elsewhere.test' },
        { id: 'UCUST', name: 'cara', realName: 'Cara Customer' },
      ],
      channels: [
        { id: 'C0CUST', name: 'shared-acme-customer', isMember: true, isExtShared: true },
        // The bot is not in the triage channel yet: the surface must join it.
        { id: 'C0TRIAGE', name: 'support-triage', isMember: false },
      ],
    },
  });
  ({ emulator, ws, t, acct } = f);
});
afterAll(async () => {
  await f?.close();
});

const deliver = (signed: { body: Buffer; headers: Record<string, string> }) => f.deliver(signed);
const query = <R>(sql: string, params: unknown[] = []) => f.query<R>(sql, params);
const messageCount = async () => Number((await query<{ n: string }>(`SELECT count(*) n FROM messages`))[0]!.n);

/** A customer writes in the shared channel (optionally in a thread) and Slack delivers the event. */
async function customerWrites(text: string, threadTs?: string, retryNum?: number, existing?: EmulatedMessage) {
  const m = existing ?? emulator.postAsUser('T0ACME', 'C0CUST', 'UCUST', text, threadTs);
  const res = await deliver(driver.event(envelope('T0ACME', { type: 'message', channel: 'C0CUST', channel_type: 'channel', user: 'UCUST', user_profile: { real_name: 'Cara Customer', display_name: 'cara' }, text, ts: m.ts, ...(threadTs ? { thread_ts: threadTs } : {}) }, { is_ext_shared_channel: true }), { retryNum }));
  return { m, res };
}

async function conversationOf(rootTs: string): Promise<string> {
  return (await query<{ id: string }>(`SELECT id FROM conversations WHERE thread_key = $1`, [slackThreadKey(acct.channelId, 'C0CUST', rootTs)]))[0]!.id;
}

const cardOf = (conversationId: string) => f.cardOf(conversationId);

const mrkdwnTexts = (m: EmulatedMessage): string[] => JSON.stringify(m.blocks ?? []).match(/"type":"mrkdwn","text":"(?:[^"\\]|\\.)*"/g) ?? [];

describe('slack end to end', () => {
  it('customer message → card with classification and draft → Send draft → customer gets it → customer reply → thread reply', async () => {
    const { m: first, res } = await customerWrites('Hello, my invoice #42 is wrong <!channel> <@UAGENT> *bold*');
    expect(res.statusCode).toBe(200);
    expect(res.json().results).toEqual(['created']);
    const conversationId = await conversationOf(first.ts);

    // The AI stage's output, written as it would (no provider is installed in this test hub).
    await withAccount(t.hub.db, acct.accountId, async (tx) => {
      await tx.query(`UPDATE conversations SET category = 'billing', priority = 'high', sentiment = 'negative', language = 'en', confidence = 0.87 WHERE id = $1`, [conversationId]);
      await insertDraft(tx, { accountId: acct.accountId, conversationId, messageId: null, aiResultId: null, text: 'Sorry about invoice #42: we have corrected it.', extractive: true, citations: [{ id: 'kb-1', title: 'Invoice corrections', url: 'https://kb.example/invoices' }] });
    });
    await syncSurface(slackOf(t.hub)!.surface, acct.accountId, conversationId);
    // A sync already running for the new message (its job) holds the conversation: this one marks it to run
    // again and returns; the card shows the analysis once that round ends.
    const card = await eventually(async () => {
      const c = await cardOf(conversationId);
      return blockText(c).includes('Sorry about invoice #42') ? c : undefined;
    });
    expect(card.channel).toBe('C0TRIAGE');
    expect(emulator.callsOf('conversations.join')).toHaveLength(1);
    const rendered = blockText(card);
    for (const s of ['billing', 'high', 'negative', '87%', 'Sorry about invoice #42', 'Invoice corrections', 'hd_send_draft', 'hd_edit_draft', 'hd_assign_me', 'hd_resolve', 'hd_snooze', 'cara', 'test channel'])
      expect(rendered).toContain(s);
    // The customer's text cannot mention anyone: mrkdwn fields never carry it unescaped.
    for (const f of mrkdwnTexts(card)) expect(f).not.toMatch(/<!channel>|<@UAGENT>/);
    expect(card.text).not.toMatch(/<!channel>/);
    expect(card.blocks!.length).toBeLessThanOrEqual(50);

    const sendDraft = (card.blocks!.find((b) => b.type === 'actions')!.elements as { action_id: string; value: string }[]).find((e) => e.action_id === 'hd_send_draft')!;
    const click = await deliver(driver.interaction({
      type: 'block_actions', team: { id: 'T0ACME', domain: 'acme' }, user: { id: 'UAGENT', team_id: 'T0ACME' }, api_app_id: 'AHUMMDESK1',
      trigger_id: emulator.issueTrigger('T0ACME', 'UAGENT'), container: { type: 'message', channel_id: 'C0TRIAGE', message_ts: card.ts, is_ephemeral: false },
      channel: { id: 'C0TRIAGE', name: 'support-triage' }, actions: [{ type: 'button', action_id: 'hd_send_draft', block_id: `hd:${conversationId}`, value: sendDraft.value }],
    }));
    expect(click.statusCode).toBe(200);

    const sent = await eventually(async () => (await query<{ id: string; status: string; text: string }>(`SELECT id, delivery_status status, text FROM messages WHERE conversation_id = $1 AND direction = 'outbound' AND delivery_status = 'sent'`, [conversationId]))[0]);
    expect(sent.text).toBe('Sorry about invoice #42: we have corrected it.');
    const toCustomer = emulator.replies('C0CUST', first.ts);
    expect(toCustomer).toHaveLength(1);
    expect(toCustomer[0]).toMatchObject({ text: 'Sorry about invoice #42: we have corrected it.', username: 'agent of ' + acct.slug });
    expect((await query<{ status: string }>(`SELECT status FROM drafts WHERE conversation_id = $1`, [conversationId]))[0]!.status).toBe('accepted');
    // Confirmed in the triage thread.
    await eventually(async () => emulator.replies('C0TRIAGE', card.ts).find((r) => r.text.startsWith(':white_check_mark: Sent in Slack by')));

    // Slack echoes our own post back: recognised, not a new inbound message.
    const before = await messageCount();
    const echo = await deliver(driver.event(envelope('T0ACME', { type: 'message', channel: 'C0CUST', user: 'UBOTACME', bot_id: ws.botId, text: toCustomer[0]!.text, ts: toCustomer[0]!.ts, thread_ts: first.ts })));
    expect(echo.json().results).toEqual(['echo']);
    expect(await messageCount()).toBe(before);

    await customerWrites('Thanks! And the next one?', first.ts);
    const mirrored = await eventually(async () => emulator.replies('C0TRIAGE', card.ts).find((r) => blockText(r).includes('Thanks! And the next one?')));
    expect(blockText(mirrored)).toContain('cara');
  });

  it('someone else writing in the customer’s thread is mirrored as themselves, after a "joined this thread" notice', async () => {
    const { m: root } = await customerWrites('My parcel never came');
    const conversationId = await conversationOf(root.ts);
    await syncSurface(slackOf(t.hub)!.surface, acct.accountId, conversationId);
    const card = await cardOf(conversationId);
    const text = 'Cancel my order and refund it to me';
    const m = emulator.postAsUser('T0ACME', 'C0CUST', 'USTRANGER', text, root.ts);
    const res = await deliver(driver.event(envelope('T0ACME', { type: 'message', channel: 'C0CUST', channel_type: 'channel', user: 'USTRANGER', user_profile: { real_name: 'Sam Stranger', display_name: 'sam' }, text, ts: m.ts, thread_ts: root.ts }, { is_ext_shared_channel: true })));
    expect(res.json().results).toEqual(['created']);
    await syncSurface(slackOf(t.hub)!.surface, acct.accountId, conversationId);
    const mirrored = await eventually(async () => emulator.replies('C0TRIAGE', card.ts).find((r) => blockText(r).includes(text)));
    // Not shown as written by the customer.
    expect(blockText(mirrored)).not.toMatch(/cara/i);
    const notice = await eventually(async () => emulator.replies('C0TRIAGE', card.ts).find((r) => blockText(r).includes('joined this thread')));
    expect(blockText(notice)).not.toMatch(/cara/i);
  });

  it('makes one message of a retried event delivery', async () => {
    const first = await customerWrites('Duplicate please');
    const again = await customerWrites('Duplicate please', undefined, 1, first.m);
    expect(first.res.json().results).toEqual(['created']);
    expect(again.res.json().results).toEqual(['duplicate']);
    expect((await query(`SELECT 1 FROM messages WHERE external_id = $1`, [`C0CUST:${first.m.ts}`])).length).toBe(1);
  });

  it('refuses a bad or stale signature with 401 and stores nothing', async () => {
    const before = await messageCount();
    const m = emulator.postAsUser('T0ACME', 'C0CUST', 'UCUST', 'forged');
    const body = envelope('T0ACME', { type: 'message', channel: 'C0CUST', user: 'UCUST', text: 'forged', ts: m.ts });
    const bad = await deliver(driver.event(body, { secret: 'not-the-secret' }));
    const stale = await deliver(driver.event(body, { timestamp: Math.floor(Date.now() / 1000) - 600 }));
    const unsigned = await t.app.inject({ method: 'POST', url: '/webhooks/slack', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect([bad.statusCode, stale.statusCode, unsigned.statusCode]).toEqual([401, 401, 401]);
    expect(stale.json().error.code).toBe('webhook_timestamp_stale');
    expect(await messageCount()).toBe(before);
  });

  it('answers url_verification', async () => {
    const res = await deliver(driver.event({ token: 'x', challenge: 'chal-123', type: 'url_verification' }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('chal-123');
  });

  it('thread reply in notes mode is a note that reaches nobody; in replies mode it reaches the customer once, even when retried', async () => {
    const { m: root } = await customerWrites('Where is my parcel?');
    const conversationId = await conversationOf(root.ts);
    const card = await cardOf(conversationId);
    const agentSays = async (text: string, retryNum?: number, existing?: EmulatedMessage) => {
      const m = existing ?? emulator.postAsUser('T0ACME', 'C0TRIAGE', 'UAGENT', text, card.ts);
      const res = await deliver(driver.event(envelope('T0ACME', { type: 'message', channel: 'C0TRIAGE', user: 'UAGENT', text, ts: m.ts, thread_ts: card.ts }), { retryNum }));
      return { m, res };
    };
    const note = await agentSays('Checking with the warehouse, internal');
    expect(note.res.json().results).toEqual(['note']);
    const stored = await query<{ isPrivate: boolean; status: string | null }>(`SELECT is_private AS "isPrivate", delivery_status status FROM messages WHERE conversation_id = $1 AND direction = 'outbound'`, [conversationId]);
    expect(stored).toEqual([{ isPrivate: true, status: null }]);
    expect(emulator.ephemerals.at(-1)).toMatchObject({ user: 'UAGENT', threadTs: card.ts });
    expect(emulator.ephemerals.at(-1)!.text).toMatch(/internal note/);

    await withAccount(t.hub.db, acct.accountId, async (tx) => {
      const cfg = (await tx.query<{ config: Record<string, unknown> }>(`SELECT config FROM channels WHERE id = $1`, [acct.channelId])).rows[0]!.config;
      await updateChannel(tx, t.hub.box, acct.channelId, { config: { ...cfg, threadReplies: 'replies' } });
    });
    const reply = await agentSays('It ships tomorrow.');
    const retried = await agentSays('It ships tomorrow.', 1, reply.m);
    expect(reply.res.json().results).toEqual(['reply']);
    expect(retried.res.json().results).toEqual(['duplicate']);
    await eventually(async () => emulator.replies('C0CUST', root.ts).find((r) => r.text === 'It ships tomorrow.'));
    await eventually(async () => emulator.replies('C0TRIAGE', card.ts).find((r) => r.text.startsWith(':white_check_mark: Sent in Slack')));
    await slackOf(t.hub)!.settled();
    expect(emulator.replies('C0CUST', root.ts).map((r) => r.text)).toEqual(['It ships tomorrow.']);
    // Neither the note's nor the reply's text is posted a second time by the surface.
    expect(emulator.replies('C0TRIAGE', card.ts).filter((r) => blockText(r).includes('It ships tomorrow') || blockText(r).includes('warehouse'))).toHaveLength(0);
    await withAccount(t.hub.db, acct.accountId, async (tx) => {
      const cfg = (await tx.query<{ config: Record<string, unknown> }>(`SELECT config FROM channels WHERE id = $1`, [acct.channelId])).rows[0]!.config;
      await updateChannel(tx, t.hub.box, acct.channelId, { config: { ...cfg, threadReplies: 'notes' } });
    });
  });

  it('an unlinked Slack user gets an ephemeral explanation and nothing is sent', async () => {
    const { m: root } = await customerWrites('Unlinked test');
    const conversationId = await conversationOf(root.ts);
    const card = await cardOf(conversationId);
    const before = await messageCount();
    const res = await deliver(driver.interaction({
      type: 'block_actions', team: { id: 'T0ACME' }, user: { id: 'USTRANGER', team_id: 'T0ACME' }, container: { type: 'message', channel_id: 'C0TRIAGE', message_ts: card.ts },
      actions: [{ type: 'button', action_id: 'hd_assign_me', block_id: `hd:${conversationId}`, value: JSON.stringify({ c: conversationId }) }],
    }));
    expect(res.statusCode).toBe(200);
    expect(emulator.ephemerals.at(-1)).toMatchObject({ user: 'USTRANGER', channel: 'C0TRIAGE' });
    expect(emulator.ephemerals.at(-1)!.text).toMatch(/not linked/);
    expect(await messageCount()).toBe(before);
    expect((await query<{ a: string | null }>(`SELECT assignee_id a FROM conversations WHERE id = $1`, [conversationId]))[0]!.a).toBeNull();
  });

  it('Assign to me, Edit draft (modal → send) and Resolve update the card in place', async () => {
    const { m: root } = await customerWrites('Please cancel my order');
    const conversationId = await conversationOf(root.ts);
    const draftId = await withAccount(t.hub.db, acct.accountId, (tx) => insertDraft(tx, { accountId: acct.accountId, conversationId, messageId: null, aiResultId: null, text: 'Your order is cancelled.', extractive: false, citations: [] }));
    await syncSurface(slackOf(t.hub)!.surface, acct.accountId, conversationId);
    const card = await cardOf(conversationId);
    const act = (action_id: string, extra: Record<string, unknown> = {}) =>
      deliver(driver.interaction({
        type: 'block_actions', team: { id: 'T0ACME' }, user: { id: 'UAGENT', team_id: 'T0ACME' }, trigger_id: emulator.issueTrigger('T0ACME', 'UAGENT'),
        container: { type: 'message', channel_id: 'C0TRIAGE', message_ts: card.ts }, actions: [{ type: 'button', action_id, block_id: `hd:${conversationId}`, value: JSON.stringify({ c: conversationId, d: draftId }), ...extra }],
      }));
    await act('hd_assign_me');
    await eventually(async () => blockText(card).includes(`agent of ${acct.slug}`));

    await act('hd_edit_draft');
    const [viewId, opened] = [...emulator.views.entries()].at(-1)!;
    expect(JSON.stringify(opened.view)).toContain('Your order is cancelled.');
    const submit = await deliver(driver.interaction({
      type: 'view_submission', team: { id: 'T0ACME' }, user: { id: 'UAGENT', team_id: 'T0ACME' },
      view: { id: viewId, type: 'modal', callback_id: 'hd_compose', private_metadata: (opened.view as { private_metadata: string }).private_metadata, state: { values: { compose: { text: { type: 'plain_text_input', value: 'Your order is cancelled and refunded.' } } } } },
    }));
    expect(submit.statusCode).toBe(200);
    await eventually(async () => emulator.replies('C0CUST', root.ts).find((r) => r.text === 'Your order is cancelled and refunded.'));
    expect((await query<{ status: string }>(`SELECT status FROM drafts WHERE id = $1`, [draftId]))[0]!.status).toBe('edited');

    await act('hd_resolve');
    await eventually(async () => blockText(card).includes('hd_reopen'));
    expect(card.edits).toBeGreaterThan(1);
  });

  it('/hummdesk status, assign and search answer ephemerally; App Home lists open conversations', async () => {
    const { m: root } = await customerWrites('Refund for order 7781 please');
    const conversationId = await conversationOf(root.ts);
    const command = (text: string, user = 'UAGENT') => deliver(driver.command({ command: '/hummdesk', text, team_id: 'T0ACME', channel_id: 'C0TRIAGE', user_id: user, response_url: emulator.issueResponseUrl(), trigger_id: 'x' }));
    const ref = conversationId.slice(0, 8);
    expect((await command(`status #${ref}`)).json()).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('*open*') });
    expect((await command(`assign ${ref} me`)).json().text).toContain('Assigned');
    expect((await command('search 7781')).json().text).toContain(`#${ref}`);
    expect((await command('status x', 'USTRANGER')).json().text).toMatch(/not linked/);
    expect((await command('')).json().text).toContain('Usage');

    const home = await deliver(driver.event(envelope('T0ACME', { type: 'app_home_opened', user: 'UAGENT', channel: 'D0HOME', tab: 'home' })));
    expect(home.statusCode).toBe(200);
    await slackOf(t.hub)!.settled();
    expect(JSON.stringify(emulator.homeTabs.get('T0ACME:UAGENT'))).toContain(`#${ref}`);
  });

  it('waits out a 429 with Retry-After and posts each thread reply once', async () => {
    const { m: root } = await customerWrites('Rate limit me');
    const conversationId = await conversationOf(root.ts);
    const card = await cardOf(conversationId);
    emulator.rateLimitNext('chat.postMessage', 1);
    await customerWrites('second message under a rate limit', root.ts);
    const posted = await eventually(async () => emulator.replies('C0TRIAGE', card.ts).filter((r) => blockText(r).includes('second message under a rate limit')).length > 0 && emulator.replies('C0TRIAGE', card.ts));
    expect(posted.filter((r) => blockText(r).includes('second message under a rate limit'))).toHaveLength(1);
    expect(emulator.calls.some((c) => c.method === 'chat.postMessage' && c.status === 429)).toBe(true);
  });

  it('installs a workspace through OAuth v2 with a signed state, stores the token encrypted, and reinstalls in place', async () => {
    const other = emulator.addWorkspace({ teamId: 'T0NEWCO', teamName: 'NewCo', users: [{ id: 'UADMIN', name: 'admin' }] });
    let cookie = '';
    const start = async () => {
      const res = await t.app.inject({ method: 'POST', url: '/slack/oauth/start', headers: { authorization: `Bearer ${acct.users.admin.token}` } });
      cookie = String(res.headers['set-cookie']).split(';')[0]!;
      return res.json<{ url: string }>().url;
    };
    expect((await t.app.inject({ method: 'POST', url: '/slack/oauth/start', headers: { authorization: `Bearer ${acct.users.agent.token}` } })).statusCode).toBe(403);
    const url = new URL(await start());
    expect(url.searchParams.get('scope')).toContain('users:read.email');
    const redirect = url.searchParams.get('redirect_uri')!;
    const callback = (state: string, code = emulator.issueOAuthCode('T0NEWCO', redirect)) =>
      t.app.inject({ method: 'GET', url: `/slack/oauth/callback?${new URLSearchParams({ code, state })}`, headers: { cookie } });
    const state = url.searchParams.get('state')!;
    expect((await callback(state.slice(0, -2) + 'xx')).statusCode).toBe(400);
    const ok = await callback(state);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('NewCo');
    const rows = await query<{ id: string; secretsEnc: string; config: Record<string, unknown> }>(`SELECT id, secrets_enc AS "secretsEnc", config FROM channels WHERE kind = 'slack' AND external_key = 'T0NEWCO'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secretsEnc).not.toContain(other.botToken);
    // The signing secret is the app's (configuration), never copied into the workspace's row.
    expect(t.hub.box.open(rows[0]!.secretsEnc)).toEqual({ botToken: other.botToken });
    expect(rows[0]!.config).toMatchObject({ botUserId: other.botUserId, teamName: 'NewCo' });
    const again = await callback(new URL(await start()).searchParams.get('state')!);
    expect(again.body).toContain('reconnected');
    expect((await query<{ id: string }>(`SELECT id FROM channels WHERE external_key = 'T0NEWCO'`)).map((r) => r.id)).toEqual([rows[0]!.id]);
  });
});
