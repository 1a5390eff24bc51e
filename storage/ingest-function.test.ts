import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { freshDatabase } from '../hub/testing/harness.js';
import { migrate } from './migrate.js';
import { openPostgres } from './postgres.js';

/*
 * hd_ingest_messages (migrations 090, 300) on PostgreSQL: what one customer message costs the
 * conversations table, and that the waiting time it sets is the one messages_track_waiting (255) keeps.
 */

let db: { url: string; drop(): Promise<void> };
let c: pg.Client;
let account: string;
let channel: string;

const row = (n: number, at: Date, over: Record<string, unknown> = {}) => ({
  senderId: `US.${n}`, displayName: `Asiakas ${n}`, address: null, verified: false, email: null, phone: null,
  threadKey: `whatsapp:${channel}:US.${n}`, conversationId: null, subject: null, sentAt: at.toISOString(),
  externalId: `wamid.F${n}`, inReplyTo: null, text: `viesti ${n}`, html: null, autoReply: false, metadata: {}, ...over,
});
const ingest = async (rows: object[]) => (await c.query<{ result: string; conversation_id: string }>(`SELECT * FROM hd_ingest_messages_as($1, $2, NULL, $3::jsonb) ORDER BY ord`, [account, channel, JSON.stringify(rows)])).rows;
const waiting = async (conversationId: string) =>
  (await c.query<{ stored: Date | null; rule: Date | null }>(`SELECT waiting_since AS stored, hd_waiting_since(id) AS rule FROM conversations WHERE id = $1`, [conversationId])).rows[0]!;

beforeAll(async () => {
  db = await freshDatabase();
  const d = await openPostgres(db.url);
  await migrate(d);
  await d.close();
  c = new pg.Client({ connectionString: db.url });
  await c.connect();
  account = (await c.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ('Ingest', 'ingest-fn') RETURNING id`)).rows[0]!.id;
  channel = (await c.query<{ id: string }>(`INSERT INTO channels (account_id, kind, name, external_key) VALUES ($1, 'whatsapp', 'WhatsApp', '106540352242922') RETURNING id`, [account])).rows[0]!.id;
});
afterAll(async () => {
  await c?.end();
  await db?.drop();
});

describe('hd_ingest_messages', () => {
  it('writes a new customer\'s conversation once: no second row version for its waiting time', async () => {
    await c.query('BEGIN');
    const [first] = await ingest([row(1, new Date('2026-12-07T10:00:00Z'))]);
    // This transaction's own counts: the insert, and no update of the row it just inserted (a non-HOT one, through every index).
    const counts = (await c.query<{ ins: string; upd: string }>(`SELECT n_tup_ins AS ins, n_tup_upd AS upd FROM pg_stat_xact_user_tables WHERE relname = 'conversations'`)).rows[0]!;
    await c.query('COMMIT');
    expect(first!.result).toBe('created');
    expect({ ins: Number(counts.ins), upd: Number(counts.upd) }).toEqual({ ins: 1, upd: 0 });
    const inboxRow = async () => (await c.query(`SELECT preview, preview_direction AS dir, preview_at AS at, customer_at AS customer FROM conversations WHERE id = $1`, [first!.conversation_id])).rows[0];
    expect(await inboxRow()).toEqual({ preview: 'viesti 1', dir: 'inbound', at: new Date('2026-12-07T10:00:00Z'), customer: new Date('2026-12-07T10:00:00Z') });

    // The customer writes again: the conversation is written once for it (last activity, preview and customer time together).
    await c.query('BEGIN');
    await ingest([row(1, new Date('2026-12-07T10:05:00Z'), { externalId: 'wamid.F1b', text: 'toinen viesti\nrivi 2' })]);
    const again = (await c.query<{ upd: string }>(`SELECT n_tup_upd AS upd FROM pg_stat_xact_user_tables WHERE relname = 'conversations'`)).rows[0]!;
    await c.query('COMMIT');
    expect(Number(again.upd)).toBe(1);
    expect(await inboxRow()).toEqual({ preview: 'toinen viesti', dir: 'inbound', at: new Date('2026-12-07T10:05:00Z'), customer: new Date('2026-12-07T10:05:00Z') });
    // A redelivery of the first message changes nothing the row shows.
    await ingest([row(1, new Date('2026-12-07T10:00:00Z'))]);
    expect(await inboxRow()).toEqual({ preview: 'toinen viesti', dir: 'inbound', at: new Date('2026-12-07T10:05:00Z'), customer: new Date('2026-12-07T10:05:00Z') });

    // A message older than the preview's, arriving late, leaves the row as it is, on either path (thread key, or the conversation the hub chose).
    await ingest([row(1, new Date('2026-12-07T10:03:00Z'), { externalId: 'wamid.F1c', text: 'myöhässä' })]);
    await ingest([row(1, new Date('2026-12-07T10:04:00Z'), { externalId: 'wamid.F1d', text: 'myöhässä 2', conversationId: first!.conversation_id })]);
    expect(await inboxRow()).toEqual({ preview: 'toinen viesti', dir: 'inbound', at: new Date('2026-12-07T10:05:00Z'), customer: new Date('2026-12-07T10:05:00Z') });
    // A later auto-reply on the chosen conversation moves the preview, not the customer's time.
    await ingest([row(1, new Date('2026-12-07T10:06:00Z'), { externalId: 'wamid.F1e', text: 'poissa', autoReply: true, conversationId: first!.conversation_id })]);
    expect(await inboxRow()).toEqual({ preview: 'poissa', dir: 'inbound', at: new Date('2026-12-07T10:06:00Z'), customer: new Date('2026-12-07T10:05:00Z') });
  });

  it('sets the waiting time the trigger\'s rule gives: the first message\'s, none for an auto-reply, none when the message was a duplicate', async () => {
    const at = new Date('2026-12-07T11:00:00Z');
    const [plain, auto] = await ingest([row(2, at), row(3, at, { autoReply: true })]);
    expect(await waiting(plain!.conversation_id)).toEqual({ stored: at, rule: at });
    expect(await waiting(auto!.conversation_id)).toEqual({ stored: null, rule: null });
    // The customer writes again: still waiting since the first message.
    await ingest([row(2, new Date('2026-12-07T11:05:00Z'), { externalId: 'wamid.F2b' })]);
    expect(await waiting(plain!.conversation_id)).toEqual({ stored: at, rule: at });
    // A message stored before arrives again under another thread: that new conversation holds nothing waiting.
    const [dup] = await ingest([row(4, at, { externalId: 'wamid.F2' })]);
    expect(dup!.result).toBe('duplicate');
    expect(await waiting(dup!.conversation_id)).toEqual({ stored: null, rule: null });
  });
});
