import type { Queryable } from '../../storage/database.js';

/**
 * Many open conversations at once for a large inbox (browser tests, the desk-scroll benchmark): each
 * a contact and one customer message a minute apart, written in three statements rather than through
 * ingest, which a list of 10,000 rows does not need to exercise. Run as the tables' owner.
 */
export async function seedBulkInbox(db: Queryable, accountId: string, channelId: string, count: number, prefix = 'bulk'): Promise<void> {
  await db.query(
    `WITH n AS (SELECT g FROM generate_series(1, $3::int) g),
     ct AS (INSERT INTO contacts (account_id, name, email) SELECT $1::uuid, 'Customer ' || lpad(g::text, 5, '0'), $4::text || g || '@example.test' FROM n RETURNING id, name),
     numbered AS (SELECT id, substring(name FROM 10)::int AS g FROM ct),
     cv AS (INSERT INTO conversations (account_id, channel_id, contact_id, thread_key, last_message_at)
            SELECT $1::uuid, $2::uuid, id, 'webchat:' || $2::text || ':' || $4::text || '-' || g, now() - g * interval '1 minute' FROM numbered RETURNING id, last_message_at, contact_id)
     INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, text, external_id, sent_at)
     SELECT $1::uuid, id, $2::uuid, 'inbound', 'contact', 'Question number ' || extract(epoch FROM last_message_at)::bigint || E'\\nwith a second line', 'ext-' || id, last_message_at FROM cv`,
    [accountId, channelId, count, prefix],
  );
}
