import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { InboundEvent } from '../../connectors/core/types.js';
import { loadConfig } from '../../hub/config.js';
import { createHub, type Hub } from '../../hub/context.js';
import { hashPassword } from '../../hub/services/auth.js';
import { migrate } from '../../storage/migrate.js';
import { withAccount } from '../../storage/session.js';
import { findInstallation, insertChannel } from '../../storage/repositories/channels.js';
import { insertTeam } from '../../storage/repositories/teams.js';
import { insertUser } from '../../storage/repositories/users.js';

/**
 * Seeds a large account (and a few small ones, so row-level security has something to hide) through
 * the real ingest path: every customer message goes through hub.ingest (hd_ingest_messages, group
 * commit), jobs off. Agent replies and the inbox mix (statuses, teams, assignees) are then written
 * with SQL as the agents' actions leave them: replies as hub.conversations.reply stores a sent one.
 */

export const PASSWORD = 'bench horse battery staple';
/** Words whose message counts the search figures are about. */
export const WORDS = { common: 'order', medium: 'refund', rare: 'chargeback' } as const;

export interface SeedPlan {
  conversations: number;
  /** Customer messages per conversation on average (the replies come on top). */
  inboundPer: number;
  /** Agent replies per conversation on average. */
  repliesPer: number;
  smallAccounts: number;
  smallConversations: number;
}

export interface Seeded {
  accountId: string;
  agentEmail: string;
  agentId: string;
  otherAgentId: string;
  teamId: string;
  messages: number;
  conversations: number;
  wordCounts: Record<keyof typeof WORDS, number>;
  seconds: number;
}

/** mulberry32: a small deterministic generator, so two runs seed the same text. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPENERS = ['Hi', 'Hello', 'Good morning', 'Hey there', 'Dear support', 'Hi team', 'Hello again'];
const SUBJECTS = ['my parcel', 'the delivery', 'my account', 'the invoice', 'my subscription', 'the app', 'my package', 'the payment', 'my password', 'the warranty'];
const PROBLEMS = [
  'has not arrived yet', 'was charged twice', 'shows the wrong address', 'stopped working yesterday', 'is missing an item',
  'cannot be updated', 'arrived damaged', 'was cancelled without notice', 'keeps asking me to log in', 'is still pending',
];
const ASKS = [
  'Can you check it?', 'Could you help me please?', 'What should I do now?', 'When will this be fixed?', 'Is there any update?',
  'Please call me back.', 'I would like to speak to someone.', 'Thanks in advance.', 'This is urgent for me.', 'Let me know.',
];
const FILLER = 'tracking number email phone shipping courier weekend monday tomorrow address store website checkout basket discount code voucher receipt size colour model screen battery login reset support manager colleague customer service'.split(' ');

function customerText(r: () => number, words: Record<keyof typeof WORDS, number>): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const parts = [`${pick(OPENERS)},`, `${pick(SUBJECTS)} ${pick(PROBLEMS)}.`];
  // About 30% of customer messages name their order: the common word.
  if (r() < 0.3) {
    parts.push(`My order ${Math.floor(r() * 900_000) + 100_000} is the one.`);
    words.common++;
  }
  for (let i = Math.floor(r() * 4); i > 0; i--) parts.push(pick(FILLER));
  // The medium and the rare word, planted at known rates.
  if (r() < 0.005) {
    parts.push('I want a refund.');
    words.medium++;
  }
  if (r() < 0.000_12) {
    parts.push('Otherwise I will file a chargeback with my bank.');
    words.rare++;
  }
  parts.push(pick(ASKS));
  return parts.join(' ');
}

export async function seed(databaseUrl: string, dataDir: string, plan: SeedPlan, log: (s: string) => void): Promise<Seeded> {
  const began = performance.now();
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    HUMMDESK_DATA_DIR: dataDir,
    HUMMDESK_SECRET_KEY: randomBytes(32).toString('hex'),
    HUMMDESK_RUN_JOBS: 'false',
    LOG_LEVEL: 'warn',
    REDIS_URL: '',
  });
  const hub = await createHub(config, { log: pino({ level: 'warn' }) });
  try {
    await migrate(hub.db);
    const passwordHash = await hashPassword(PASSWORD);
    const large = await seedAccount(hub, 'bench-large', plan.conversations, plan.inboundPer, passwordHash, 1, log);
    for (let i = 0; i < plan.smallAccounts; i++) await seedAccount(hub, `bench-small-${i}`, plan.smallConversations, 5, passwordHash, 100 + i, () => {});
    log('replies, statuses, teams and assignees …');
    await mix(hub, large.accountId, plan.repliesPer);
    // Jobs were off: the ai.classify rows ingest wrote would never run here, and the planner should see the data as autovacuum would leave it.
    await hub.db.query(`DELETE FROM outbox`);
    await hub.db.query(`VACUUM ANALYZE`);
    const counts = (await hub.db.query<{ m: string; c: string }>(
      `SELECT (SELECT count(*) FROM messages WHERE account_id = $1) AS m, (SELECT count(*) FROM conversations WHERE account_id = $1) AS c`, [large.accountId],
    )).rows[0]!;
    return { ...large, messages: Number(counts.m), conversations: Number(counts.c), seconds: Math.round((performance.now() - began) / 1000) };
  } finally {
    await hub.close();
  }
}

async function seedAccount(hub: Hub, slug: string, conversations: number, inboundPer: number, passwordHash: string, seedNo: number, log: (s: string) => void) {
  const accountId = (await hub.db.query<{ id: string }>(`INSERT INTO accounts (name, slug) VALUES ($1, $1) RETURNING id`, [slug])).rows[0]!.id;
  const { channels, agentId, otherAgentId, teamId } = await withAccount(hub.db, accountId, async (tx) => {
    const teams = [];
    for (const name of ['Billing', 'Shipping', 'Returns', 'Technical', 'VIP']) teams.push((await insertTeam(tx, { accountId, name })).id);
    const agents = [];
    for (let i = 0; i < 40; i++) agents.push((await insertUser(tx, { accountId, email: `agent${i}@${slug}.test`, name: `Agent ${i}`, role: 'agent', passwordHash })).id);
    await insertUser(tx, { accountId, email: `admin@${slug}.test`, name: 'Admin', role: 'admin', passwordHash });
    const channels = [];
    for (let i = 0; i < 4; i++) {
      channels.push((await insertChannel(tx, hub.box, {
        accountId, kind: 'webchat', name: `Web chat ${i}`, externalKey: `bench-${slug}-${i}`, teamId: teams[i]!,
        secrets: { identitySecret: randomBytes(16).toString('hex'), sessionSecret: randomBytes(16).toString('hex') },
      })).id);
    }
    return { channels, agentId: agents[0]!, otherAgentId: agents[1]!, teamId: teams[0]! };
  });
  const installs = await Promise.all(channels.map(async (id) => (await findInstallation(hub.db, hub.box, { kind: 'webchat', id }))!));
  const r = rng(seedNo);
  const wordCounts = { common: 0, medium: 0, rare: 0 };
  const now = Date.now();
  const DAY = 86_400_000;
  // Conversations in chunks; each call carries one conversation's messages, many calls in flight (group commit).
  const CHUNK = 400;
  const IN_FLIGHT = 32;
  let sent = 0;
  let lastLog = performance.now();
  for (let start = 0; start < conversations; start += CHUNK) {
    const calls: { channel: (typeof installs)[number]; events: InboundEvent[] }[] = [];
    for (let i = start; i < Math.min(conversations, start + CHUNK); i++) {
      const channel = installs[i % installs.length]!;
      // A customer writes 1 to 2×inboundPer−1 messages (mean inboundPer), minutes to hours apart, within the last 180 days.
      const count = 1 + Math.floor(r() * (2 * inboundPer - 1));
      let at = now - r() * 180 * DAY;
      const customer = `visitor-${Math.floor(r() * conversations * 0.7)}`;
      const events: InboundEvent[] = [];
      for (let k = 0; k < count; k++) {
        events.push({
          type: 'message',
          message: {
            channel: { kind: 'webchat', channelId: channel.id },
            externalId: `bench-${i}-${k}`,
            threadKey: `webchat:${channel.id}:bench-${i}`,
            direction: 'inbound',
            sender: { externalId: customer, displayName: `Customer ${customer.slice(8)}`, isBot: false },
            sentAt: new Date(Math.min(at, now)).toISOString(),
            text: customerText(r, wordCounts),
            attachments: [],
            raw: {},
          },
        });
        at += 60_000 + r() * 6 * 3_600_000;
      }
      calls.push({ channel, events });
    }
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < calls.length) {
        const c = calls[next++]!;
        const outcomes = await hub.ingest.ingest(c.channel, c.events);
        if (outcomes.some((o) => o.result !== 'created')) throw new Error(`ingest did not create every message: ${JSON.stringify(outcomes[0])}`);
        sent += c.events.length;
      }
    }));
    if (performance.now() - lastLog > 15_000) {
      lastLog = performance.now();
      log(`${slug}: ${Math.min(conversations, start + CHUNK)} conversations, ${sent} messages`);
    }
  }
  return { accountId, agentEmail: `agent0@${slug}.test`, agentId, otherAgentId, teamId, wordCounts };
}

/**
 * What agents' work leaves behind, written as the owner in a few statements: replies (sent, by the
 * assignee), then status, team and assignee. Newer conversations are the ones still open.
 */
async function mix(hub: Hub, accountId: string, repliesPer: number): Promise<void> {
  await hub.db.query(`SELECT setseed(0.42)`);
  // Rank 0 = newest. Newest fifth: mostly open, some pending or snoozed; the rest: almost all resolved.
  await hub.db.query(
    `WITH ranked AS (
       SELECT id, percent_rank() OVER (ORDER BY last_message_at DESC) AS pr, random() AS r1, random() AS r2, random() AS r3
       FROM conversations WHERE account_id = $1),
     agents AS (SELECT array_agg(id ORDER BY email) AS ids FROM users WHERE account_id = $1 AND role = 'agent'),
     teams AS (SELECT array_agg(id ORDER BY name) AS ids FROM teams WHERE account_id = $1)
     UPDATE conversations c SET
       status = s.status,
       snoozed_until = CASE WHEN s.status = 'snoozed' THEN now() + (1 + s.r2 * 72) * interval '1 hour' END,
       -- Unassigned: a fifth of what is open, none of what was worked on.
       assignee_id = CASE WHEN s.status = 'open' AND s.r2 < 0.2 THEN NULL ELSE agents.ids[1 + floor(s.r3 * array_length(agents.ids, 1))::int] END,
       team_id = CASE WHEN s.r3 < 0.1 THEN NULL ELSE teams.ids[1 + floor(s.r2 * array_length(teams.ids, 1))::int] END,
       priority = CASE WHEN s.r1 < 0.05 THEN 'urgent' WHEN s.r1 < 0.2 THEN 'high' ELSE 'normal' END,
       resolved_at = CASE WHEN s.status = 'resolved' THEN c.last_message_at + interval '1 hour' END
     FROM (SELECT id, r1, r2, r3, CASE
             WHEN pr < 0.2 THEN CASE WHEN r1 < 0.55 THEN 'open' WHEN r1 < 0.7 THEN 'pending' WHEN r1 < 0.85 THEN 'snoozed' ELSE 'resolved' END
             ELSE CASE WHEN r1 < 0.03 THEN 'open' ELSE 'resolved' END END AS status
           FROM ranked) s, agents, teams
     WHERE c.id = s.id`,
    [accountId],
  );
  // Replies: after a random customer message of the conversation, by its assignee (or any agent), sent.
  await hub.db.query(
    `INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, author_user_id, text, delivery_status, sent_at, external_id)
     SELECT m.account_id, m.conversation_id, m.channel_id, 'outbound', 'agent', coalesce(c.assignee_id, (SELECT id FROM users WHERE account_id = $1 AND role = 'agent' LIMIT 1)),
            'Thanks for writing to us. We are looking into it and will get back to you shortly.', 'sent',
            m.sent_at + interval '5 minutes', 'bench-reply-' || m.id
       FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE m.account_id = $1 AND m.direction = 'inbound' AND random() < $2::float8 / 8`,
    [accountId, repliesPer],
  );
  await hub.db.query(
    `UPDATE conversations c SET last_message_at = greatest(c.last_message_at, r.at)
       FROM (SELECT conversation_id, max(sent_at) AS at FROM messages WHERE account_id = $1 AND direction = 'outbound' GROUP BY 1) r
      WHERE c.id = r.conversation_id`,
    [accountId],
  );
}
