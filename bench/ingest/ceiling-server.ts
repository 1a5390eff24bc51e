import Fastify from 'fastify';
import pg from 'pg';

/** The ceiling: a bare Fastify route doing one INSERT (one commit) per request, nothing else. */
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL ?? 20) });
await pool.query(`CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
const app = Fastify();
app.post('/insert', async (req) => {
  const { rows } = await pool.query<{ id: string }>(`INSERT INTO bench_ceiling (body) VALUES ($1) RETURNING id`, [JSON.stringify(req.body)]);
  return { id: rows[0]!.id };
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ceiling ready\n');
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
