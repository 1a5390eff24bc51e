import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { slackErrorCode, toConnectorError } from '../../connectors/slack/client.js';
import { withAccount } from '../../storage/session.js';
import { getInstallation, updateChannel } from '../../storage/repositories/channels.js';
import { audit } from '../../storage/repositories/audit.js';
import type { Hub } from '../context.js';
import { slackOf } from '../install-slack.js';

/*
 * Slack token rotation. Once an app turns it on (App settings → OAuth & Permissions; it cannot be
 * turned off again), oauth.v2.access answers a bot token that expires after 12 hours with a
 * single-use refresh token. Both are kept sealed in the installation's secrets, the expiry in its
 * config (`botTokenExpiresAt`), and every process that runs jobs renews tokens two hours ahead of
 * expiry, as Slack's own SDKs do. A lease (channel_checkpoints) makes one process refresh a given
 * installation at a time: Slack revokes a refresh token once it was used, so two refreshes at once
 * would leave the loser's tokens, and possibly the row, with a dead one.
 */

/** Renew this long before expiry (Slack's SDKs use the same two hours). */
export const REFRESH_AHEAD_MS = 2 * 60 * 60_000;
const LEASE_KEY = 'slack:token-refresh';
const LEASE_MS = 5 * 60_000;
/** After a refused refresh, the same installation is tried again this much later (not every round). */
const RETRY_AFTER_FAILURE_MS = 15 * 60_000;

export interface RotatingGrant {
  refreshToken: string;
  /** ISO time the access token expires. */
  expiresAt: string;
}

/** The refresh token and expiry of an oauth.v2.access answer, when the app has token rotation on. */
export function rotatingGrant(access: { refresh_token?: string; expires_in?: number }, now: Date): RotatingGrant | undefined {
  if (!access.refresh_token || typeof access.expires_in !== 'number' || access.expires_in <= 0) return undefined;
  return { refreshToken: access.refresh_token, expiresAt: new Date(now.getTime() + access.expires_in * 1000).toISOString() };
}

export interface RefreshResult {
  refreshed: string[];
  failed: { channelId: string; code: string }[];
}

/**
 * Renews every enabled Slack installation's bot token that expires within REFRESH_AHEAD_MS.
 * Network calls happen outside any transaction: claim the lease, read the installation, call Slack,
 * then write the new pair in its own short transaction (merged into the secrets, never replacing them).
 */
export async function refreshSlackTokens(hub: Hub, opts: { now?: Date; owner?: string; retryAt?: Map<string, number> } = {}): Promise<RefreshResult> {
  const slack = slackOf(hub);
  const result: RefreshResult = { refreshed: [], failed: [] };
  const { clientId, clientSecret } = slack?.options ?? {};
  if (!slack || !clientId || !clientSecret) return result;
  const now = opts.now ?? slack.now();
  const owner = opts.owner ?? `${hostname()}/${process.pid}/${randomUUID()}`;
  const due = new Date(now.getTime() + REFRESH_AHEAD_MS);
  // The one cross-tenant read: which installations are due; each is then read and written as its tenant.
  const { rows } = await hub.db.query<{ id: string; accountId: string }>(
    `SELECT id, account_id AS "accountId" FROM channels
     WHERE kind = 'slack' AND enabled AND config ? 'botTokenExpiresAt' AND (config->>'botTokenExpiresAt')::timestamptz < $1`,
    [due],
  );
  for (const row of rows) {
    if ((opts.retryAt?.get(row.id) ?? 0) > now.getTime()) continue;
    if (!(await claimLease(hub, row.accountId, row.id, owner))) continue;
    try {
      // Read after the lease: another process may have refreshed it a moment ago.
      const install = await withAccount(hub.db, row.accountId, (tx) => getInstallation(tx, hub.box, row.id));
      const expiresAt = install?.config.botTokenExpiresAt;
      const refreshToken = install?.secrets.refreshToken;
      if (!install || typeof expiresAt !== 'string' || new Date(expiresAt) >= due) continue;
      if (!refreshToken) {
        result.failed.push({ channelId: row.id, code: 'slack_refresh_token_missing' });
        continue;
      }
      let access;
      try {
        access = await slack.clients.for(undefined).oauth.v2.access({ client_id: clientId, client_secret: clientSecret, grant_type: 'refresh_token', refresh_token: refreshToken });
      } catch (err) {
        const code = slackErrorCode(err) ? `slack_${slackErrorCode(err)}` : toConnectorError(err).code;
        result.failed.push({ channelId: row.id, code });
        opts.retryAt?.set(row.id, now.getTime() + RETRY_AFTER_FAILURE_MS);
        hub.log.error({ err, channelId: row.id, code }, 'slack token refresh failed; the bot token stops working when it expires unless the workspace reinstalls');
        await withAccount(hub.db, row.accountId, (tx) => audit(tx, { accountId: row.accountId, actorKind: 'system', actorId: null, action: 'slack.token_refresh_failed', targetKind: 'channel', targetId: row.id, data: { code } })).catch(() => undefined);
        continue;
      }
      const grant = rotatingGrant(access, now);
      if (!access.access_token || !grant) {
        result.failed.push({ channelId: row.id, code: 'slack_refresh_incomplete' });
        continue;
      }
      // Written whatever happened to the lease meanwhile: Slack has revoked the old refresh token, these are the live ones.
      await withAccount(hub.db, row.accountId, async (tx) => {
        const current = await getInstallation(tx, hub.box, row.id);
        if (!current) return;
        await updateChannel(tx, hub.box, row.id, {
          secrets: { ...current.secrets, botToken: access.access_token!, refreshToken: grant.refreshToken },
          config: { ...current.config, botTokenExpiresAt: grant.expiresAt },
        });
      });
      hub.installations.forget();
      result.refreshed.push(row.id);
    } finally {
      await releaseLease(hub, row.accountId, row.id, owner).catch(() => undefined);
    }
  }
  return result;
}

async function claimLease(hub: Hub, accountId: string, channelId: string, owner: string): Promise<boolean> {
  const { rows } = await withAccount(hub.db, accountId, (tx) =>
    tx.query(
      `INSERT INTO channel_checkpoints (account_id, channel_id, key, value)
       VALUES ($1, $2, $3, jsonb_build_object('owner', $4::text, 'expiresAt', clock_timestamp() + make_interval(secs => $5::float8 / 1000)))
       ON CONFLICT (channel_id, key) DO UPDATE SET value = excluded.value, updated_at = now()
         WHERE channel_checkpoints.value->>'owner' = $4 OR (channel_checkpoints.value->>'expiresAt')::timestamptz < clock_timestamp()
       RETURNING 1`,
      [accountId, channelId, LEASE_KEY, owner, LEASE_MS],
    ),
  );
  return rows.length > 0;
}

async function releaseLease(hub: Hub, accountId: string, channelId: string, owner: string): Promise<void> {
  await withAccount(hub.db, accountId, (tx) => tx.query(`DELETE FROM channel_checkpoints WHERE channel_id = $1 AND key = $2 AND value->>'owner' = $3`, [channelId, LEASE_KEY, owner]));
}

/** Runs refreshSlackTokens every `everyMs` (default a minute) in a process that runs jobs. */
export function startSlackTokenRefresh(hub: Hub, opts: { everyMs?: number } = {}): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const retryAt = new Map<string, number>();
  const tick = () => {
    running = running.then(() => refreshSlackTokens(hub, { retryAt })).catch((err: unknown) => hub.log.error({ err }, 'slack token refresh round failed'));
  };
  tick();
  const timer = setInterval(tick, opts.everyMs ?? 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
