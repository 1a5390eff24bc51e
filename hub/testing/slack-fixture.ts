import type { LightMyRequestResponse } from 'fastify';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from './harness.js';
import { slackOf } from '../install-slack.js';
import type { SlackAppOptions } from '../slack/app.js';
import { withAccount } from '../../storage/session.js';
import { updateChannel } from '../../storage/repositories/channels.js';
import { SlackDriver } from '../../connectors/slack/testing/driver.js';
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
  close(): Promise<void>;
}

export async function startSlackFixture(opts: SlackFixtureOptions): Promise<SlackFixture> {
  const emulator = await SlackEmulator.start(opts.emulator);
  const slackApiUrl = opts.apiUrl ? await opts.apiUrl(emulator) : emulator.apiUrl;
  const t = await startTestHub({ ...(opts.redis ? { redis: true } : {}), ...(opts.wrapDb ? { wrapDb: opts.wrapDb } : {}), slack: { ...opts.slack, slackApiUrl, signingSecret: opts.signing } });
  const acct = await createTestAccount(t, {
    channelKind: 'slack',
    channelKey: opts.workspace.teamId,
    secrets: { signingSecret: opts.signing },
    config: opts.config,
  });
  const { users, ...workspace } = opts.workspace;
  const ws = emulator.addWorkspace({ ...workspace, ...(users ? { users: typeof users === 'function' ? users(acct) : users } : {}) });
  await withAccount(t.hub.db, acct.accountId, (tx) => updateChannel(tx, t.hub.box, acct.channelId, { secrets: { signingSecret: opts.signing, botToken: ws.botToken } }));
  const query = async <R>(sql: string, params: unknown[] = []) => withAccount(t.hub.db, acct.accountId, async (tx) => (await tx.query<R>(sql, params)).rows);
  const activeThread = async (conversationId: string) => {
    const row = (await query<{ key: string }>(`SELECT surface_key AS key FROM surface_threads WHERE conversation_id = $1 AND active`, [conversationId]))[0];
    if (!row) return undefined;
    const [channel, ts] = row.key.split(':') as [string, string];
    return emulator.messages.find((m) => m.channel === channel && m.ts === ts);
  };
  return {
    emulator,
    ws,
    t,
    acct,
    driver: new SlackDriver(opts.signing),
    deliver: (signed) => t.app.inject({ method: 'POST', url: '/webhooks/slack', headers: signed.headers, payload: signed.body }),
    query,
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
