import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { GraphEmulator, signedWebhook, messengerWebhooks as ms, whatsappWebhooks as wa } from '../../connectors/meta/testing/emulator.js';

/*
 * Meta webhooks are acknowledged only after their commit: when the database refuses the write (here a
 * trigger made to fail one message, a real failure of the real statement), the hub answers 5xx, so Meta
 * delivers the body again; that redelivery is stored once, and a further one is a duplicate.
 */

const SECRET = 'ack-meta-app-secret';
const NUMBER = '100000000000061';
const PAGE = '300000000000061';

describe('Meta webhooks: acknowledged after the commit', () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let a: TestAccount;

  const post = (kind: 'whatsapp' | 'messenger', body: unknown) => {
    const signed = signedWebhook(SECRET, body);
    return t.app.inject({ method: 'POST', url: `/webhooks/${kind}`, payload: signed.payload, headers: signed.headers });
  };
  const stored = async (externalId: string) => Number((await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE external_id = $1`, [externalId])).rows[0]!.n);
  /** The database refuses to store the message `externalId` until `healed` (a trigger, as a full disk or a lost connection would). */
  const refuse = async (externalId: string) => {
    await t.hub.db.query(`CREATE OR REPLACE FUNCTION test_refuse_message() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await t.hub.db.query(`CREATE TRIGGER test_refuse_message BEFORE INSERT ON messages FOR EACH ROW WHEN (NEW.external_id = '${externalId.replace(/'/g, "''")}') EXECUTE FUNCTION test_refuse_message()`);
    return { healed: () => t.hub.db.query(`DROP TRIGGER test_refuse_message ON messages`) };
  };

  beforeAll(async () => {
    graph = await GraphEmulator.start({ latencyMs: [0, 0] });
    graph.addNumber({ id: NUMBER, token: 'ack-wa-token' });
    graph.addPage({ id: PAGE, token: 'ack-page-token' });
    t = await startTestHub({ env: { HUMMDESK_META_APP_SECRET: SECRET, HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_GRAPH_URL: graph.url, HUMMDESK_META_APP_ID: '4242' } });
    a = await createTestAccount(t);
    for (const payload of [
      { kind: 'whatsapp', name: 'WhatsApp', externalKey: NUMBER, secrets: { accessToken: 'ack-wa-token' } },
      { kind: 'messenger', name: 'Messenger', externalKey: PAGE, secrets: { accessToken: 'ack-page-token' } },
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${a.users.admin.token}` }, payload });
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(async () => {
    await t?.close();
    await graph?.close();
  });

  it.each([
    ['whatsapp', 'wamid.ACK-1', () => wa.text(NUMBER, { waId: '358407000061', name: 'Aino' }, { id: 'wamid.ACK-1', body: 'Tuleeko tämä perille?' })],
    ['messenger', 'm_ACK-1', () => ms.text(PAGE, '400000000000061', { mid: 'm_ACK-1', text: 'Does this arrive?' })],
  ] as const)('%s: a failed commit answers 5xx and stores nothing; the redelivery stores the message once', async (kind, externalId, body) => {
    const db = await refuse(externalId);
    try {
      const failed = await post(kind, body());
      expect(failed.statusCode).toBeGreaterThanOrEqual(500);
      expect(failed.body).not.toContain('refused by the test'); // internals stay hidden
      expect(await stored(externalId)).toBe(0);
    } finally {
      await db.healed();
    }
    const redelivered = await post(kind, body());
    expect([redelivered.statusCode, redelivered.json().results]).toEqual([200, ['created']]);
    const again = await post(kind, body());
    expect([again.statusCode, again.json().results]).toEqual([200, ['duplicate']]);
    expect(await stored(externalId)).toBe(1);
  });
});
