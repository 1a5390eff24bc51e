import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { metaSignature } from '../../connectors/meta/signature.js';
import { GraphEmulator, signedWebhook, whatsappWebhooks as wa, type SentMessage } from '../../connectors/meta/testing/emulator.js';

const SECRET = 'e2e-meta-app-secret';
const VERIFY = 'e2e-verify-token';
const NUMBER_A = '100000000000001';
const NUMBER_B = '100000000000002';

describe('WhatsApp Cloud API end to end (/webhooks/whatsapp)', () => {
  let t: TestHub;
  let graph: GraphEmulator;
  let a: TestAccount;
  let b: TestAccount;
  let channelA: string;
  let channelB: string;

  const post = (body: unknown, headers?: Record<string, string>) => {
    const signed = signedWebhook(SECRET, body);
    return t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: signed.payload, headers: headers ?? signed.headers });
  };
  const count = async (sql: string, params: unknown[] = []) => Number((await t.hub.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params)).rows[0]!.n);

  beforeAll(async () => {
    graph = await GraphEmulator.start();
    graph.addNumber({ id: NUMBER_A, token: 'token-a', displayPhoneNumber: '+358 9 000 0001', verifiedName: 'Tenant A Oy' });
    graph.addNumber({ id: NUMBER_B, token: 'token-b' });
    t = await startTestHub({ env: { HUMMDESK_META_APP_SECRET: `old-secret,${SECRET}`, HUMMDESK_META_VERIFY_TOKEN: VERIFY, HUMMDESK_META_GRAPH_URL: graph.url } });
    a = await createTestAccount(t);
    b = await createTestAccount(t);
    const create = async (acct: TestAccount, number: string, token: string) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${acct.users.admin.token}` }, payload: { kind: 'whatsapp', name: 'WhatsApp', externalKey: number, secrets: { accessToken: token } } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string; config: Record<string, unknown>; secretKeys: string[] };
    };
    const ca = await create(a, NUMBER_A, 'token-a');
    expect(ca.config).toEqual({ graphVersion: 'v25.0', displayPhoneNumber: '+358 9 000 0001', verifiedName: 'Tenant A Oy' });
    expect(ca.secretKeys).toEqual(['accessToken']);
    channelA = ca.id;
    channelB = (await create(b, NUMBER_B, 'token-b')).id;
  });
  afterAll(async () => {
    await t?.close();
    await graph?.close();
  });

  it('answers Meta\'s handshake with the challenge for the right verify token, 403 otherwise', async () => {
    const ok = await t.app.inject({ method: 'GET', url: `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=42` });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('42');
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    const wrong = await t.app.inject({ method: 'GET', url: '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=42' });
    expect(wrong.statusCode).toBe(403);
  });

  it('refuses a channel whose token cannot read the number, and another tenant\'s number', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${b.users.admin.token}` }, payload: { kind: 'whatsapp', name: 'stolen', externalKey: NUMBER_A, secrets: { accessToken: 'token-b' } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('channel_auth_failed');
    const noToken = await t.app.inject({ method: 'POST', url: '/api/v1/channels', headers: { authorization: `Bearer ${b.users.admin.token}` }, payload: { kind: 'whatsapp', name: 'x', externalKey: NUMBER_A } });
    expect(noToken.json().error.code).toBe('whatsapp_access_token_required');
  });

  it('refuses unsigned and re-serialised POSTs with 401 and stores nothing, even for no channel at all', async () => {
    const body = wa.text(NUMBER_A, { waId: '358401111111', userId: 'US.111', name: 'Äiti' }, { id: 'wamid.UNSIGNED', body: 'päivää / hello' });
    const before = await count('messages');
    const unsigned = await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().error.code).toBe('webhook_signature_invalid');
    const signed = signedWebhook(SECRET, body);
    const reserialised = await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: JSON.stringify(body), headers: signed.headers });
    expect(reserialised.statusCode).toBe(401);
    const nobody = await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: JSON.stringify(wa.text('555', { waId: '1' }, { id: 'wamid.N', body: 'x' })), headers: { 'content-type': 'application/json' } });
    expect(nobody.statusCode).toBe(401);
    expect(await count('messages')).toBe(before);
  });

  it('answers a signed body that is not a WhatsApp notification with 400 and a clear code', async () => {
    const signedRaw = (raw: Buffer) => t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(SECRET, raw) } });
    const cases: [Buffer, string][] = [
      [Buffer.from('{not json'), 'webhook_body_invalid'],
      [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"object":"whatsapp_business_account","entry":[]}')]), 'webhook_body_bom'],
      [Buffer.from('{"entry":[]}'), 'webhook_body_not_meta'],
    ];
    for (const [raw, code] of cases) {
      const res = await signedRaw(raw);
      expect([res.statusCode, res.json().error.code]).toEqual([400, code]);
    }
  });

  it('answers a signed notification for an object it does not serve (Messenger, Instagram) 200, ignored with the reason', async () => {
    const before = await count('messages');
    for (const object of ['page', 'instagram']) {
      const raw = Buffer.from(JSON.stringify({ object, entry: [{ id: '1', time: 1, messaging: [{ sender: { id: '2' }, recipient: { id: '1' }, timestamp: 1, message: { mid: 'm_X', text: 'hi' } }] }] }));
      const res = await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(SECRET, raw) } });
      expect([res.statusCode, res.json().results]).toEqual([200, ['ignored']]);
      expect(res.json().reason).toMatch(new RegExp(`object "${object}"`));
    }
    expect(await count('messages')).toBe(before);
  });

  it('stores a signed text once, however often Meta redelivers it, with the business-scoped id and the phone', async () => {
    const body = wa.text(NUMBER_A, { waId: '358402222222', userId: 'US.222', name: 'Pekka Ö' }, { id: 'wamid.ONCE', body: 'Hyvää päivää / 😀' });
    for (let i = 0; i < 3; i++) {
      const res = await post(body);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().results).toEqual([i === 0 ? 'created' : 'duplicate']);
    }
    expect(await count(`messages WHERE external_id = 'wamid.ONCE'`)).toBe(1);
    const row = (await t.hub.db.query<{ text: string; account_id: string; phone: string; external_id: string; name: string }>(
      `SELECT m.text, m.account_id, ct.phone, ci.external_id, ct.name FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts ct ON ct.id = c.contact_id
       JOIN contact_identities ci ON ci.contact_id = ct.id WHERE m.external_id = 'wamid.ONCE'`,
    )).rows[0]!;
    expect(row).toEqual({ text: 'Hyvää päivää / 😀', account_id: a.accountId, phone: '358402222222', external_id: 'US.222', name: 'Pekka Ö' });
  });

  it('a reply typed in the WhatsApp Business app (smb_message_echoes) is our side of the conversation once, never the customer\'s', async () => {
    const customer = { waId: '358402323232', userId: 'US.2323', name: 'Liisa' };
    expect((await post(wa.text(NUMBER_A, customer, { id: 'wamid.SMB-Q', body: 'Onko paketti lähtenyt?' }))).json().results).toEqual(['created']);
    const echo = wa.businessAppEcho(NUMBER_A, customer, { id: 'wamid.SMB-A', body: 'Lähti tänään.' });
    for (let i = 0; i < 3; i++) {
      const res = await post(echo);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().results).toEqual([i === 0 ? 'created' : 'duplicate']);
    }
    const rows = (await t.hub.db.query<{ direction: string; author_kind: string; author_user_id: string | null; delivery_status: string; by: string; same: boolean }>(
      `SELECT m.direction, m.author_kind, m.author_user_id, m.delivery_status, m.metadata->>'sentElsewhere' AS by,
              m.conversation_id = (SELECT conversation_id FROM messages WHERE external_id = 'wamid.SMB-Q') AS same
         FROM messages m WHERE m.external_id = 'wamid.SMB-A'`,
    )).rows;
    expect(rows).toEqual([{ direction: 'outbound', author_kind: 'agent', author_user_id: null, delivery_status: 'sent', by: 'whatsapp_business_app', same: true }]);
    // The business's own number never becomes a contact: the conversation's only contact is still the customer.
    expect(await count(`contact_identities WHERE external_id IN ('15550001111', 'business')`)).toBe(0);
    // A Business app message to someone HummDesk never heard from stays outside it.
    const orphan = await post(wa.businessAppEcho(NUMBER_A, { waId: '358409999000' }, { id: 'wamid.SMB-ORPHAN', body: 'Hei!' }));
    expect(orphan.json().results).toEqual(['echo']);
    expect(await count(`messages WHERE external_id = 'wamid.SMB-ORPHAN'`)).toBe(0);
  });

  it('splits one body across tenants by number; a number nobody serves is answered 200 and ignored', async () => {
    const body = wa.batch(
      wa.text(NUMBER_A, { waId: '358403333333' }, { id: 'wamid.BATCH-A', body: 'to A' }),
      wa.text('999999999', { waId: '358403333333' }, { id: 'wamid.BATCH-X', body: 'to nobody' }),
      wa.text(NUMBER_B, { waId: '358403333333' }, { id: 'wamid.BATCH-B', body: 'to B' }),
      wa.text(NUMBER_B, { waId: '358403333333' }, { id: 'wamid.BATCH-B', body: 'to B' }),
    );
    const res = await post(body);
    expect(res.statusCode, res.body).toBe(200);
    const rows = (await t.hub.db.query<{ external_id: string; account_id: string; channel_id: string }>(`SELECT external_id, account_id, channel_id FROM messages WHERE external_id LIKE 'wamid.BATCH-%' ORDER BY external_id`)).rows;
    expect(rows).toEqual([
      { external_id: 'wamid.BATCH-A', account_id: a.accountId, channel_id: channelA },
      { external_id: 'wamid.BATCH-B', account_id: b.accountId, channel_id: channelB },
    ]);
    const unknownOnly = await post(wa.text('999999999', { waId: '1' }, { id: 'wamid.NOBODY', body: 'x' }));
    expect(unknownOnly.statusCode).toBe(200);
    expect(unknownOnly.json().results).toEqual(['ignored']);
  });

  describe('media', () => {
    const attachmentOf = async (externalId: string) =>
      (await t.hub.db.query<{ id: string; conversation_id: string; fetch_state: string; fetch_error: string | null; blob_key: string | null; size: number | null; mime_type: string }>(
        `SELECT a.id, m.conversation_id, a.fetch_state, a.fetch_error, a.blob_key, a.size, a.mime_type FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.external_id = $1`,
        [externalId],
      )).rows;
    const image = (id: string, mediaId: string) => wa.message(NUMBER_A, { waId: '358404444444' }, { id, type: 'image', image: { id: mediaId, mime_type: 'image/jpeg', sha256: 'ignored-by-the-hub', caption: 'kuva' } });
    const bytes = Buffer.alloc(300_000, 7);

    it('commits the message first with the file pending, then stores it once, after two failed downloads', async () => {
      graph.addMedia('MEDIA-OK', NUMBER_A, bytes, 'image/jpeg');
      graph.failNextDownloads(2);
      const release = graph.holdDownloads();
      const res = await post(image('wamid.IMG', 'MEDIA-OK'));
      expect(res.json().results).toEqual(['created']);
      const [pending] = await attachmentOf('wamid.IMG');
      expect(pending).toMatchObject({ fetch_state: 'pending', blob_key: null });
      const api = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${pending!.conversation_id}/messages`, headers: { authorization: `Bearer ${a.users.agent.token}` } });
      expect(api.json().items.at(-1).attachments).toEqual([expect.objectContaining({ kind: 'image', fetchState: 'pending' })]);
      const early = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${pending!.conversation_id}/attachments/${pending!.id}`, headers: { authorization: `Bearer ${a.users.agent.token}` } });
      expect(early.json().error.code).toBe('attachment_not_fetched_yet');
      // A redelivery while the file is still pending makes neither a second message nor a second fetch.
      expect((await post(image('wamid.IMG', 'MEDIA-OK'))).json().results).toEqual(['duplicate']);
      release();
      const stored = await eventually(async () => (await attachmentOf('wamid.IMG')).find((r) => r.fetch_state === 'stored'));
      expect(stored).toMatchObject({ size: bytes.length, mime_type: 'image/jpeg', fetch_error: null });
      expect(await attachmentOf('wamid.IMG')).toHaveLength(1);
      expect(graph.downloads).toBe(3);
      const file = await t.app.inject({ method: 'GET', url: `/api/v1/conversations/${stored.conversation_id}/attachments/${stored.id}`, headers: { authorization: `Bearer ${a.users.agent.token}` } });
      expect(file.statusCode).toBe(200);
      expect(file.rawPayload.equals(bytes)).toBe(true);
    });

    it('a media id Graph no longer knows fails at once, with the reason on the attachment', async () => {
      await post(image('wamid.IMG-GONE', 'MEDIA-GONE'));
      const failed = await eventually(async () => (await attachmentOf('wamid.IMG-GONE')).find((r) => r.fetch_state === 'failed'));
      expect(failed.fetch_error).toMatch(/Graph error 100\/33/);
    });

    it('bytes that do not match Graph\'s checksum are never stored', async () => {
      const other = Buffer.alloc(200_000, 9);
      graph.addMedia('MEDIA-BAD', NUMBER_A, other, 'image/jpeg', true);
      await post(image('wamid.IMG-BAD', 'MEDIA-BAD'));
      const failed = await eventually(async () => (await attachmentOf('wamid.IMG-BAD')).find((r) => r.fetch_state === 'failed'), 60_000);
      expect(failed).toMatchObject({ blob_key: null, fetch_error: 'the download does not match the SHA-256 Graph gave' });
      // Streamed to the blob store before the checksum was known: the refused file is not kept.
      const served = Buffer.concat([other.subarray(0, -1), Buffer.from([other.at(-1)! ^ 0xff])]);
      expect(await t.hub.blobs.get(createHash('sha256').update(served).digest('hex')).then(() => true, () => false)).toBe(false);
    });
  });

  describe('replies and their statuses', () => {
    const customer = { waId: '358405555555', userId: 'US.555', name: 'Liisa' };
    let conversationId: string;

    const reply = async (text: string) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text } });
      expect(res.statusCode, res.body).toBe(202);
      return res.json().id as string;
    };
    const delivery = async (id: string) => (await t.hub.db.query<{ delivery_status: string; delivery_error: string | null; external_id: string | null }>(`SELECT delivery_status, delivery_error, external_id FROM messages WHERE id = $1`, [id])).rows[0]!;
    const sentFor = (id: string) => eventually(async () => graph.inbox.find((m) => m.bizOpaqueCallbackData === id));
    const status = (id: string, s: 'sent' | 'delivered' | 'read' | 'failed', extra: { callbackData?: string; error?: { code: number; title: string } } = {}) =>
      wa.status(NUMBER_A, { id, status: s, recipient: customer.waId, ...extra });

    beforeAll(async () => {
      graph.customerWrote(NUMBER_A, customer.waId);
      const res = await post(wa.text(NUMBER_A, customer, { id: 'wamid.Q1', body: 'Missä tilaukseni on?' }));
      expect(res.json().results).toEqual(['created']);
      conversationId = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = 'wamid.Q1'`)).rows[0]!.conversation_id;
    });

    it('sends the reply to the customer\'s phone; a late delivered never undoes read', async () => {
      const id = await reply('Se on matkalla.');
      const sent = await sentFor(id);
      expect(sent).toMatchObject({ to: customer.waId, text: 'Se on matkalla.' });
      await eventually(async () => (await delivery(id)).delivery_status === 'sent');
      // Out of order and duplicated, in one batch and then again.
      const body = wa.batch(status(sent.id, 'read'), status(sent.id, 'sent'), status(sent.id, 'delivered'), status(sent.id, 'read'));
      expect((await post(body)).statusCode).toBe(200);
      expect((await post(status(sent.id, 'delivered'))).statusCode).toBe(200);
      expect(await delivery(id)).toMatchObject({ delivery_status: 'read', external_id: sent.id });
    });

    it('failed with its reason beats sent', async () => {
      const id = await reply('Toinen viesti');
      const sent = await sentFor(id);
      await eventually(async () => (await delivery(id)).delivery_status === 'sent');
      await post(wa.batch(status(sent.id, 'failed', { error: { code: 131026, title: 'Message undeliverable' } }), status(sent.id, 'sent')));
      expect(await delivery(id)).toMatchObject({ delivery_status: 'failed', delivery_error: '131026 Message undeliverable' });
    });

    it('a status that overtakes the answer to its send is kept and applied when the send is recorded', async () => {
      let overtaken: SentMessage | undefined;
      graph.onMessage = async (sent) => {
        graph.onMessage = undefined;
        overtaken = sent;
        // Meta's webhooks can arrive before Graph's answer to the send: neither id nor reference applies yet.
        const res = await post(wa.batch(status(sent.id, 'delivered'), status(sent.id, 'sent')));
        expect(res.json().results).toEqual(['status_unmatched', 'status_unmatched']);
      };
      const id = await reply('Kolmas viesti');
      await eventually(async () => (await delivery(id)).external_id !== null);
      expect(overtaken).toBeDefined();
      expect(await delivery(id)).toMatchObject({ delivery_status: 'delivered', external_id: overtaken!.id });
      expect(await count('pending_delivery_statuses')).toBe(0);
    });

    it('a receipt checked while a send records its id waits for that commit instead of being kept and lost', async () => {
      const { rows } = await t.hub.db.query<{ id: string }>(
        `INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, text, delivery_status) VALUES ($1, $2, $3, 'outbound', 'agent', 'race', 'sending') RETURNING id`,
        [a.accountId, conversationId, channelA],
      );
      const id = rows[0]!.id;
      // The deliver job's last transaction, held open: the lock first, then the id Graph answered.
      const sender = new pg.Client({ connectionString: t.config.databaseUrl });
      await sender.connect();
      try {
        await sender.query('BEGIN');
        await sender.query(`SELECT pg_advisory_xact_lock(hashtext('hummdesk receipts ' || $1::text))`, [channelA]);
        await sender.query(`UPDATE messages SET external_id = 'wamid.RACE', delivery_status = 'sent' WHERE id = $1`, [id]);
        const receipt = post(status('wamid.RACE', 'delivered'));
        await eventually(async () => (await t.hub.db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows.length > 0);
        await sender.query('COMMIT');
        expect((await receipt).json().results).toEqual(['status']);
      } finally {
        await sender.end();
      }
      expect(await delivery(id)).toMatchObject({ delivery_status: 'delivered' });
      expect(await count(`pending_delivery_statuses WHERE external_id = 'wamid.RACE'`)).toBe(0);
    });

    it('receipts for sends never recorded here are kept a week, then dropped', async () => {
      await t.hub.db.query(`INSERT INTO pending_delivery_statuses (account_id, channel_id, external_id, status, received_at) VALUES ($1, $2, 'wamid.ANCIENT', 'sent', now() - interval '8 days')`, [a.accountId, channelA]);
      expect((await post(status('wamid.FROM-THE-PHONE-APP', 'delivered'))).json().results).toEqual(['status_unmatched']);
      const kept = (await t.hub.db.query<{ external_id: string }>(`SELECT external_id FROM pending_delivery_statuses WHERE channel_id = $1 ORDER BY external_id`, [channelA])).rows;
      expect(kept).toEqual([{ external_id: 'wamid.FROM-THE-PHONE-APP' }]);
    });

    it('a send cut off before its id was stored is reconciled by biz_opaque_callback_data', async () => {
      const id = await reply('Neljäs viesti');
      const sent = await sentFor(id);
      await eventually(async () => (await delivery(id)).delivery_status === 'sent');
      // As if the answer had been lost: the message has no platform id, and an agent was told "unknown".
      await t.hub.db.query(`UPDATE messages SET external_id = NULL, delivery_status = 'unknown' WHERE id = $1`, [id]);
      await post(status(sent.id, 'delivered', { callbackData: id }));
      expect(await delivery(id)).toMatchObject({ delivery_status: 'delivered', external_id: sent.id });
    });

    it('statuses Meta sends on its own, out of order and duplicated, end at read', async () => {
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
      graph.webhookTarget = { url: `${address}/webhooks/whatsapp`, appSecret: SECRET, statuses: ['delivered', 'sent', 'read', 'delivered', 'read'] };
      try {
        const id = await reply('Viides viesti');
        await eventually(async () => graph.webhookAnswers.length === 5);
        expect(graph.webhookAnswers).toEqual([200, 200, 200, 200, 200]);
        expect(await delivery(id)).toMatchObject({ delivery_status: 'read' });
      } finally {
        graph.webhookTarget = undefined;
      }
    });

    it('refuses free text outside the 24-hour window, and text over 4,096 characters, before anything is stored or sent', async () => {
      const before = { sent: graph.inbox.length, messages: await count('messages WHERE conversation_id = $1', [conversationId]) };
      const tooLong = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text: 'x'.repeat(4097) } });
      expect([tooLong.statusCode, tooLong.json().error.code]).toEqual([400, 'whatsapp_text_too_long']);
      await t.hub.db.query(`UPDATE messages SET sent_at = now() - interval '25 hours' WHERE conversation_id = $1 AND direction = 'inbound'`, [conversationId]);
      const late = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/reply`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text: 'Liian myöhään' } });
      expect([late.statusCode, late.json().error.code]).toEqual([400, 'whatsapp_window_closed']);
      expect(late.json().error.details.closedAt).toEqual(expect.any(String));
      // An internal note is not a message to the customer: no window applies.
      const note = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conversationId}/notes`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text: 'call them instead' } });
      expect(note.statusCode).toBe(201);
      expect(graph.inbox.length).toBe(before.sent);
      expect(await count('messages WHERE conversation_id = $1', [conversationId])).toBe(before.messages + 1);
    });

    it('a reply queued while the window was open is refused at delivery if it closed meanwhile, never sent', async () => {
      const other = { waId: '358406666666' };
      graph.customerWrote(NUMBER_A, other.waId);
      await post(wa.text(NUMBER_A, other, { id: 'wamid.Q-LATE', body: 'hei' }));
      const conv = (await t.hub.db.query<{ conversation_id: string }>(`SELECT conversation_id FROM messages WHERE external_id = 'wamid.Q-LATE'`)).rows[0]!.conversation_id;
      // The job runs only after the window closed: the customer's message is moved back once the reply is queued.
      await t.hub.runner.stop();
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/conversations/${conv}/reply`, headers: { authorization: `Bearer ${a.users.agent.token}` }, payload: { text: 'myöhässä' } });
      await t.hub.db.query(`UPDATE messages SET sent_at = now() - interval '25 hours' WHERE conversation_id = $1 AND direction = 'inbound'`, [conv]);
      await t.hub.startJobs({ relay: true, work: true });
      expect(res.statusCode).toBe(202);
      const before = graph.inbox.length;
      const row = await eventually(async () => {
        const d = await delivery(res.json().id);
        return d.delivery_status === 'failed' ? d : undefined;
      });
      expect(row.delivery_error).toMatch(/^whatsapp_window_closed/);
      expect(graph.inbox.length).toBe(before);
    });
  });
});
