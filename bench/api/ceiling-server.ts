import Fastify from 'fastify';
import pg from 'pg';

/** The ceiling: a bare Fastify route reading one conversation by primary key per request, nothing else. */
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL ?? 20) });
const ids = (await pool.query<{ id: string }>(`SELECT id FROM conversations ORDER BY random() LIMIT 1000`)).rows.map((r) => r.id);
let n = 0;
const app = Fastify();
app.get('/conversation', async () => {
  const { rows } = await pool.query(`SELECT id, status, last_message_at FROM conversations WHERE id = $1`, [ids[n++ % ids.length]]);
  return rows[0];
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ceiling ready\n');
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
