import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { GraphEmulator, signedWebhook, messengerWebhooks as ms } from '../../connectors/meta/testing/emulator.js';
import { messengerNamesOf } from '../services/messenger-names.js';

/*
 * Messenger webhooks name the customer only by PSID: the hub asks the User Profile API (the local Graph
 * emulator) once per Page and customer and names the contact; a lookup that failed is asked again.
 */

const SECRET = 'names-meta-app-secret';
const PAGE = '300000000000031';
const WAIT = 60_000;

describe('Messenger customers\' names (User Profile API, cached per Page and customer)', () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let a: TestAccount;
  let channelId: string;

  const post = (body: unknown) => {
    const signed = signedWebhook(SECRET, body);
    return t.app.inject({ method: 'POST', url: '/webhooks/messenger', payload: signed.payload, headers: signed.headers });
  };
  const contactOf = async (psid: string) =>
    (await t.hub.db.query<{ name: string | null; display_name: string | null }>(
      `SELECT c.name, ci.display_name FROM contact_identities ci JOIN contacts c ON c.id = ci.contact_id WHERE ci.channel_id = $1 AND ci.external_id = $2`, [channelId, psid],
    )).rows[0];
  const lookups = (psid: string) => graph.messenger.profileLookups.filter((l) => l.psid === psid);
  const cached = async (psid: string) => Number((await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM messenger_profiles WHERE channel_id = $1 AND psid = $2`, [channelId, psid])).rows[0]!.n);

  beforeAll(async () => {
    graph = await GraphEmulator.start({ latencyMs: [0, 0] });
    graph.addPage({ id: PAGE, token: 'names-page-token' });
    t = await startTestHub({ env: { HUMMDESK_META_APP_SECRET: SECRET, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url, HUMMDESK_META_APP_ID: '4242' } });
    a = await createTestAccount(t);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${a.users.admin.token}` }, payload: { kind: 'messenger', name: 'Messenger', externalKey: PAGE, secrets: { accessToken: 'names-page-token' } } });
    expect(res.statusCode, res.body).toBe(201);
    channelId = res.json().id;
  });
  afterAll(async () => {
    if (t) await messengerNamesOf(t.hub).settled();
    await t?.close();
    await graph?.close();
  });

  it('two messages of a customer: one lookup, and the contact carries the name', async () => {
    graph.messenger.addProfile(PAGE, 'PSID-N1', { firstName: 'Aino', lastName: 'Virtanen' });
    expect((await post(ms.text(PAGE, 'PSID-N1', { mid: 'm_N1-1', text: 'Hei' }))).json().results).toEqual(['created']);
    await eventually(async () => (await contactOf('PSID-N1'))?.name === 'Aino Virtanen', WAIT);
    expect(await contactOf('PSID-N1')).toEqual({ name: 'Aino Virtanen', display_name: 'Aino Virtanen' });

    expect((await post(ms.text(PAGE, 'PSID-N1', { mid: 'm_N1-2', text: 'Onko kukaan paikalla?' }))).json().results).toEqual(['created']);
    await messengerNamesOf(t.hub).settled();
    expect(lookups('PSID-N1')).toEqual([{ pageId: PAGE, psid: 'PSID-N1', fields: ['first_name', 'last_name'], status: 200 }]);
    expect(await cached('PSID-N1')).toBe(1);
  });

  it('a failed lookup is not kept as "no name": the next message asks again and names the contact', async () => {
    graph.messenger.addProfile(PAGE, 'PSID-N2', { firstName: 'Veera' });
    graph.messenger.failNextProfiles(1);
    expect((await post(ms.text(PAGE, 'PSID-N2', { mid: 'm_N2-1', text: 'Hello' }))).json().results).toEqual(['created']);
    await eventually(async () => lookups('PSID-N2').length === 1, WAIT);
    await messengerNamesOf(t.hub).settled();
    expect(lookups('PSID-N2')[0]!.status).toBe(503);
    expect(await contactOf('PSID-N2')).toEqual({ name: null, display_name: null });
    expect(await cached('PSID-N2')).toBe(0);

    expect((await post(ms.text(PAGE, 'PSID-N2', { mid: 'm_N2-2', text: 'Hello again' }))).json().results).toEqual(['created']);
    await eventually(async () => (await contactOf('PSID-N2'))?.name === 'Veera', WAIT);
    expect(lookups('PSID-N2').map((l) => l.status)).toEqual([503, 200]);
  });

  it('a customer who shares no name: the answer is kept, so later messages do not ask again', async () => {
    graph.messenger.addProfile(PAGE, 'PSID-N3', {});
    expect((await post(ms.text(PAGE, 'PSID-N3', { mid: 'm_N3-1', text: 'Hi' }))).json().results).toEqual(['created']);
    await eventually(async () => (await cached('PSID-N3')) === 1, WAIT);
    await messengerNamesOf(t.hub).settled();
    expect((await post(ms.text(PAGE, 'PSID-N3', { mid: 'm_N3-2', text: 'Hi?' }))).json().results).toEqual(['created']);
    await messengerNamesOf(t.hub).settled();
    expect(lookups('PSID-N3')).toHaveLength(1);
    expect(await contactOf('PSID-N3')).toEqual({ name: null, display_name: null });
  });
});
