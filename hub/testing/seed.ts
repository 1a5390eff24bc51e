import { randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { InboundEvent } from '../../connectors/core/types.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import type { TestAccount, TestHub } from './harness.js';

/** Test support for route tests: conversations made through the real ingest path, and one-line API calls. */

export interface SeededConversation {
  conversationId: string;
  messageId: string;
  contactId: string;
}

/** A customer message on the account's test channel; each call opens a new conversation unless `thread` repeats. */
export async function seedConversation(
  t: TestHub,
  acct: TestAccount,
  opts: { thread?: string; text?: string; sender?: string; sentAt?: string; subject?: string } = {},
): Promise<SeededConversation> {
  const channel = await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId });
  if (!channel) throw new Error('test channel is missing or disabled');
  // A repeated thread is the same customer writing again (another sender would be announced as joining).
  const sender = opts.sender ?? `visitor-${opts.thread ?? randomUUID()}`;
  const event: InboundEvent = {
    type: 'message',
    message: {
      channel: { kind: 'webchat', channelId: channel.id },
      externalId: `ext-${randomUUID()}`,
      threadKey: `webchat:${channel.id}:${opts.thread ?? randomUUID()}`,
      direction: 'inbound',
      sender: { externalId: sender, displayName: `Customer ${sender.slice(0, 12)}`, isBot: false },
      sentAt: opts.sentAt ?? new Date().toISOString(),
      text: opts.text ?? 'Hello, I need help with my order',
      ...(opts.subject ? { subject: opts.subject } : {}),
      attachments: [],
      raw: {},
    },
  };
  const [outcome] = await t.hub.ingest.ingest(channel, [event]);
  if (!outcome?.conversationId || !outcome.messageId) throw new Error(`ingest did not create a message: ${JSON.stringify(outcome)}`);
  const contactId = await withAccount(t.hub.db, acct.accountId, async (tx) =>
    (await tx.query<{ id: string }>(`SELECT contact_id AS id FROM conversations WHERE id = $1`, [outcome.conversationId])).rows[0]!.id,
  );
  return { conversationId: outcome.conversationId, messageId: outcome.messageId, contactId };
}

/** One API call with a bearer credential (access token or API key). */
export function call(
  t: TestHub,
  credential: string | undefined,
  method: InjectOptions['method'],
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url,
    headers: { ...(credential ? { authorization: `Bearer ${credential}` } : {}), ...headers },
    ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
  });
}

/** Counts rows of one table as the tenant sees them. */
export function countRows(t: TestHub, accountId: string, table: string): Promise<number> {
  if (!/^[a-z_]+$/.test(table)) throw new Error(`not a table name: ${table}`);
  return withAccount(t.hub.db, accountId, async (tx) => Number((await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n));
}

/** Every tenant table; tests that prove isolation walk all of them. */
export const TENANT_TABLES = [
  'users', 'refresh_tokens', 'api_keys', 'teams', 'team_members', 'channels', 'contacts', 'contact_identities',
  'conversations', 'messages', 'attachments', 'ai_results', 'drafts', 'surface_threads', 'outbox', 'audit_log', 'channel_checkpoints',
] as const;

/**
 * A fingerprint of all of one account's rows: equal before and after means nothing of theirs changed.
 * An API key's last_used_at is left out: using a key is meant to touch it.
 */
export async function snapshotAccount(t: TestHub, accountId: string): Promise<Record<string, string>> {
  return withAccount(t.hub.db, accountId, async (tx) => {
    const out: Record<string, string> = {};
    for (const table of [...TENANT_TABLES, 'accounts']) {
      const { rows } = await tx.query<{ n: string; h: string | null }>(
        `SELECT count(*)::text AS n, md5(string_agg((to_jsonb(r) - 'last_used_at')::text, '|' ORDER BY (to_jsonb(r) - 'last_used_at')::text)) AS h FROM ${table} r`,
      );
      out[table] = `${rows[0]!.n}:${rows[0]!.h ?? ''}`;
    }
    return out;
  });
}
