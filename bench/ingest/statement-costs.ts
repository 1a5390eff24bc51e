/**
 * What one inbound message's ingest costs PostgreSQL, statement by statement, triggers included: `N`
 * single-message calls of `hd_ingest_messages_as` into open conversations of the bench-large account (as a
 * Slack event or a chat message arrives on a quiet hub: one call each, committed), with pg_stat_statements
 * tracking nested statements for this session only. On a copy of a database `npm run bench -- api --keep`
 * left behind (it adds messages); the server must preload pg_stat_statements.
 * Usage: npx tsx bench/ingest/statement-costs.ts DATABASE_URL (superuser) [N=400]
 */
import pg from 'pg';
import { startStatements } from '../statements.js';

const [url, n = '400'] = process.argv.slice(2);
if (!url) throw new Error('usage: npx tsx bench/ingest/statement-costs.ts DATABASE_URL [N]');
const count = Number(n);
const c = new pg.Client({ connectionString: url });
await c.connect();
const { rows: [account] } = await c.query<{ id: string }>(`SELECT id FROM accounts WHERE slug = 'bench-large'`);
if (!account) throw new Error('no bench-large account: run `npm run bench -- api --keep` first and pass a copy of its database');
// Open conversations with a thread key, each written to by its own contact (no "joined" notices).
const { rows: conversations } = await c.query<{ id: string; channelId: string; senderId: string }>(
  `SELECT c.id, c.channel_id AS "channelId", ci.external_id AS "senderId" FROM conversations c
     JOIN contact_identities ci ON ci.contact_id = c.contact_id AND ci.channel_id = c.channel_id
    WHERE c.account_id = $1 AND c.status = 'open' AND c.thread_key IS NOT NULL LIMIT 50`, [account.id]);
await c.query(`SET pg_stat_statements.track = 'all'`);
const counting = await startStatements(c);
if (!counting.ok) throw new Error(`pg_stat_statements is not available: ${counting.why}`);
const started = performance.now();
for (let i = 0; i < count; i++) {
  const conv = conversations[i % conversations.length]!;
  // A new word in each message, as real ones bring: the conversation's search terms grow.
  const row = { conversationId: conv.id, senderId: conv.senderId, text: `Order ${i} has not arrived yet (token${i}). Can you check it?`, externalId: `cost-${Date.now()}-${i}`, sentAt: new Date().toISOString() };
  await c.query('BEGIN');
  await c.query('SELECT * FROM hd_ingest_messages_as($1, $2, $3, $4::jsonb) ORDER BY ord', [account.id, conv.channelId, null, JSON.stringify([row])]);
  await c.query('COMMIT');
}
const wallMs = performance.now() - started;
await c.query(`SET pg_stat_statements.track = 'top'`);
const { rows } = await c.query<{ toplevel: boolean; calls: string; ms: number; query: string }>(
  `SELECT toplevel, calls::text, total_exec_time AS ms, query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = current_database() AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 25`);
await c.end();
process.stdout.write(`per message: calls  exec ms  statement (T: sent by the client; the rest run inside it)\n`);
for (const r of rows) {
  process.stdout.write(`${r.toplevel ? 'T' : ' '} ${(Number(r.calls) / count).toFixed(3).padStart(6)} ${(r.ms / count).toFixed(4).padStart(8)}  ${r.query.replace(/\s+/g, ' ').slice(0, 140)}\n`);
}
const top = rows.find((r) => r.toplevel && r.query.includes('hd_ingest_messages_as'));
process.stdout.write(`${JSON.stringify({ bench: 'ingest-statement-costs', messages: count, wall_ms_per_message: +(wallMs / count).toFixed(3), ingest_exec_ms_per_message: top ? +(top.ms / count).toFixed(3) : null })}\n`);
