import type { LightMyRequestResponse } from 'fastify';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from './harness.js';
import { slackOf } from '../install-slack.js';
import type { SlackAppOptions } from '../slack/app.js';
import { withAccount } from '../../storage/session.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { SlackDriver, envelope } from '../../connectors/slack/testing/driver.js';
import { slackThreadKey } from '../../connectors/slack/connector.js';
import { SlackEmulator, type EmulatedMessage, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';

/**
 * The set-up every Slack end-to-end test shares: an emulator, a test hub whose Slack app points at it,
 * an account with one Slack installation (the workspace the emulator holds, its bot token stored), a
 * driver that signs what Slack would send, and the helpers the tests read Slack and the store with.
 */

type WorkspaceSpec = Parameters<SlackEmulator['addWorkspace']>[0];

export interface SlackFixtureOptions {
  signing: string;
  /** The installed workspace; `users` may name the test account's agents (by their e-mail). */
  workspace: Omit<WorkspaceSpec, 'users'> & { teamId: string; users?: WorkspaceSpec['users'] | ((acct: TestAccount) => WorkspaceSpec['users']) };
  /** The installation's config (bot user, customer and triage channels, thread replies). */
  config: Record<string, unknown>;
  emulator?: Parameters<typeof SlackEmulator.start>[0];
  /** The hub's Slack app options besides the emulator's API URL and the signing secret. */
  slack?: Partial<SlackAppOptions>;
  /** Where the hub calls Slack (a gate in front of the emulator); the emulator's API URL by default. */
  apiUrl?: (emulator: SlackEmulator) => Promise<string> | string;
  /** Jobs through BullMQ on the test Redis instead of the in-process runner. */
  redis?: boolean;
  /** The hub's other settings (a Meta app's, say). */
  env?: Record<string, string>;
  /** Who `customerWrites` writes as: a workspace user (their profile goes with each event) in a shared customer channel. */
  customer?: { channel: string; user: string };
  /** Wraps the hub's database (e.g. to count its round trips). */
  wrapDb?: Parameters<typeof startTestHub>[0] extends infer O ? O extends { wrapDb?: infer W } ? W : never : never;
}

export interface SlackFixture {
  emulator: SlackEmulator;
  ws: EmulatedWorkspace;
  t: TestHub;
  acct: TestAccount;
  driver: SlackDriver;
  /** A signed request to the Request URL. */
  deliver(signed: { body: Buffer; headers: Record<string, string> }): Promise<LightMyRequestResponse>;
  /** Rows read in the test account's tenant transaction. */
  query<R>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Where a conversation's active Slack thread is, once its root card is in the emulator. */
  threadOf(conversationId: string): Promise<{ channel: string; ts: string }>;
  /** The root card of a conversation's active thread, as the emulator holds it now. */
  cardOf(conversationId: string): Promise<EmulatedMessage>;
  /**
   * The `customer` option's person writes in their channel (in `threadTs`'s thread), delivered as Slack's event
   * from a shared channel; fails unless the hub stored it as a new message. Its conversation.
   */
  customerWrites(text: string, threadTs?: string): Promise<{ m: EmulatedMessage; conversationId: string }>;
  /** An agent (a workspace user) writes in a card's thread, delivered as Slack's event: the hub's answer. */
  threadReply(card: { channel: string; ts: string }, user: string, text: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startSlackFixture(opts: SlackFixtureOptions): Promise<SlackFixture> {
  const emulator = await SlackEmulator.start(opts.emulator);
  const slackApiUrl = opts.apiUrl ? await opts.apiUrl(emulator) : emulator.apiUrl;
  const t = await startTestHub({ ...(opts.redis ? { redis: true } : {}), ...(opts.env ? { env: opts.env } : {}), ...(opts.wrapDb ? { wrapDb: opts.wrapDb } : {}), slack: { ...opts.slack, slackApiUrl, signingSecret: opts.signing } });
  const acct = await createTestAccount(t, {
    channelKind: 'slack',
    channelKey: opts.workspace.teamId,
    secrets: { signingSecret: opts.signing },
    config: opts.config,
  });
  const { users, ...workspace } = opts.workspace;
  const people = typeof users === 'function' ? users(acct) : users;
  const ws = emulator.addWorkspace({ ...workspace, ...(people ? { users: people } : {}) });
  await withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, acct.channelId, { secrets: { signingSecret: opts.signing, botToken: ws.botToken } }));
  const query = async <R>(sql: string, params: unknown[] = []) => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<R>(sql, params)).rows);
  const activeThread = async (conversationId: string) => {
    const row = (await query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1 AND active`, [conversationId]))[0];
    if (!row) return undefined;
    const [channel, ts] = row.key.split(':') as [string, string];
    return emulator.messages.find((m) => m.channel === channel && m.ts === ts);
  };
  const teamId = opts.workspace.teamId;
  const driver = new SlackDriver(opts.signing);
  const deliver = (signed: { body: Buffer; headers: Record<string, string> }) => t.app.inject({ method: 'POST', url: '/webhooks/slack', headers: signed.headers, payload: signed.body });
  return {
    emulator,
    ws,
    t,
    acct,
    driver,
    deliver,
    query,
    customerWrites: async (text, threadTs) => {
      const customer = opts.customer;
      const person = people?.find((u) => u.id === customer?.user);
      if (!customer || !person) throw new Error('customerWrites needs the fixture\'s `customer` option, naming a user of the workspace');
      const m = emulator.postAsUser(teamId, customer.channel, customer.user, text, threadTs);
      const profile = { real_name: person.realName ?? person.name, display_name: person.name };
      const ev = { type: 'message', channel: customer.channel, channel_type: 'channel', user: customer.user, text, ts: m.ts, user_profile: profile, ...(threadTs ? { thread_ts: threadTs } : {}) };
      const res = await deliver(driver.event(envelope(teamId, ev, { is_ext_shared_channel: true })));
      const results = res.statusCode === 200 ? res.json<{ results: string[] }>().results : undefined;
      if (JSON.stringify(results) !== '["created"]') throw new Error(`the customer's message was not stored as new: ${res.statusCode} ${res.body}`);
      const conversationId = (await query<{ id: string }>(`SELECT id FROM conversations WHERE thread_key = $1`, [slackThreadKey(acct.channelId, customer.channel, threadTs ?? m.ts)]))[0]!.id;
      return { m, conversationId };
    },
    threadReply: (card, user, text) => {
      const m = emulator.postAsUser(teamId, card.channel, user, text, card.ts);
      return deliver(driver.event(envelope(teamId, { type: 'message', channel: card.channel, user, text, ts: m.ts, thread_ts: card.ts })));
    },
    threadOf: (conversationId) => eventually(async () => {
      const card = await activeThread(conversationId);
      return card && { channel: card.channel, ts: card.ts };
    }),
    cardOf: (conversationId) => eventually(() => activeThread(conversationId)),
    close: async () => {
      await slackOf(t.hub)?.settled();
      await t.close();
      await emulator.close();
    },
  };
}

/** A message's blocks as one string, to look for what it shows. */
export const blockText = (m: EmulatedMessage) => JSON.stringify(m.blocks ?? []);
