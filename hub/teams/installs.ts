import { randomInt } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { TeamsConnectorClient } from '../../connectors/teams/client.js';
import { TeamsRosterRefusedError } from '../../connectors/teams/client.js';
import type { ActivityContext } from '../../connectors/teams/parse.js';
import type { Activity } from '../../connectors/teams/activity.js';
import { withAccount } from '../../storage/session.js';
import { getChannel, insertChannel, updateChannel } from '../../storage/repositories/channels.js';
import { audit } from '../../storage/repositories/audit.js';
import type { Hub } from '../context.js';
import { HubError, conflict } from '../errors.js';
import {
  dropPendingInstall, hashCode, installationOfTeam, pendingInstall, takePendingByCode, teamsConfig, upsertPendingInstall,
  type TeamsChannelInfo, type TeamsInstallConfig,
} from './store.js';

/*
 * Which account a Teams team belongs to. Teams tells the bot only "added to team T of tenant X"; any
 * account could type T or X, so neither binds by itself. The bot posts a one-time code in the team's
 * General channel, which only the team's members see; an admin of a HummDesk account enters it
 * and the team is that account's. A code works once, for 24 hours;
 * @mentioning the bot with "connect" in a team no account holds yet posts a new one. A team already
 * claimed stays with its account: a reinstall reconnects it there.
 */

/** How long a link code works. */
export const CODE_TTL_MS = 24 * 3600_000;
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export function newLinkCode(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

/** The team's channels as Teams lists them; the General channel has the team's id and no name. */
export async function teamChannelsOf(client: TeamsConnectorClient, serviceUrl: string, teamId: string): Promise<TeamsChannelInfo[]> {
  const listed = await client.teamChannels(serviceUrl, teamId);
  return listed.map((c) => {
    const type = (c as { type?: string; membershipType?: string }).type ?? (c as { membershipType?: string }).membershipType;
    return { id: c.id, name: c.name ?? (c.id === teamId ? 'General' : c.id), type: type === 'private' || type === 'shared' ? type : 'standard' };
  });
}

export interface TeamsInstallsDeps {
  hub: Hub;
  client: () => TeamsConnectorClient;
  codeTtlMs?: number;
}

export type InstallOutcome = 'pending' | 'code_posted' | 'reconnected' | 'disconnected' | 'updated' | 'ignored';

/** Bot added to or removed from a team, channel and team events, claims, and disconnections. */
export class TeamsInstalls {
  constructor(private readonly deps: TeamsInstallsDeps) {}

  private get hub(): Hub {
    return this.deps.hub;
  }

  /** The bot was added to a team (conversationUpdate membersAdded or installationUpdate add). */
  async installed(ctx: ActivityContext, activity: Activity, log: FastifyBaseLogger, opts: { forceCode?: boolean } = {}): Promise<InstallOutcome> {
    const { teamId, tenantId, serviceUrl } = ctx;
    if (!teamId || !tenantId || !serviceUrl) return 'ignored';
    const existing = await installationOfTeam(this.hub.db, teamId);
    const channels = await this.channels(serviceUrl, teamId, log);
    if (existing) {
      const current = teamsConfig(existing);
      const aadGroupId = activity.channelData?.team?.aadGroupId;
      const next: TeamsInstallConfig = { ...current, tenantId, serviceUrl, ...(aadGroupId ? { aadGroupId } : {}), ...(ctx.teamName ? { teamName: ctx.teamName } : {}), ...(channels ? { channels } : {}) };
      const wasDisconnected = !existing.enabled;
      delete next.disconnected;
      await withAccount(this.hub.db, existing.accountId, async (tx) => {
        await updateChannel(tx, this.hub.box, existing.id, { config: next as unknown as Record<string, unknown>, enabled: true });
        if (wasDisconnected) await audit(tx, { accountId: existing.accountId, actorKind: 'system', actorId: null, action: 'msteams.reconnected', targetKind: 'channel', targetId: existing.id, data: { teamsTeamId: teamId } });
      });
      this.hub.installations.forget();
      return wasDisconnected ? 'reconnected' : 'updated';
    }
    // Teams sends both a conversationUpdate and an installationUpdate: one code, not two.
    const pending = await pendingInstall(this.hub.db, teamId);
    if (pending && !opts.forceCode && pending.codeExpiresAt && Date.parse(pending.codeExpiresAt) > Date.now() + 60_000) return 'pending';
    const code = newLinkCode();
    await upsertPendingInstall(this.hub.db, {
      teamId, tenantId, aadGroupId: activity.channelData?.team?.aadGroupId ?? pending?.aadGroupId ?? null, name: ctx.teamName ?? pending?.name ?? null, serviceUrl,
      channels: channels ?? pending?.channels ?? [{ id: teamId, name: 'General', type: 'standard' }], codeHash: hashCode(code), codeTtlMs: this.deps.codeTtlMs ?? CODE_TTL_MS,
    });
    try {
      await this.deps.client().createChannelThread(serviceUrl, {
        channelId: teamId,
        tenantId,
        activity: {
          textFormat: 'plain',
          text: `HummDesk was added to this team. To work your support conversations here, an admin of your HummDesk account connects it with this code (POST /api/v1/msteams/installs): ${code}\nThe code works once, for 24 hours. Mention HummDesk with "connect" for a new one.`,
        },
      });
      return 'code_posted';
    } catch (err) {
      log.warn({ err, teamsTeamId: teamId }, 'teams: could not post the link code; mention the bot with "connect" for a new one');
      return 'pending';
    }
  }

  /** The bot was removed from a team (or Teams deleted the team). */
  async removed(ctx: ActivityContext, reason: string): Promise<InstallOutcome> {
    if (!ctx.teamId) return 'ignored';
    await dropPendingInstall(this.hub.db, ctx.teamId);
    const existing = await installationOfTeam(this.hub.db, ctx.teamId);
    if (!existing) return 'ignored';
    return (await this.disconnect(existing.accountId, existing.id, reason)) ? 'disconnected' : 'ignored';
  }

  /** A channel was created, renamed, deleted or restored, or the team renamed: the stored channel list follows. */
  async teamChanged(ctx: ActivityContext & { kind: 'channel' | 'team'; event: string }, log: FastifyBaseLogger): Promise<InstallOutcome> {
    if (!ctx.teamId) return 'ignored';
    if (ctx.kind === 'team' && (ctx.event === 'deleted' || ctx.event === 'hardDeleted')) return this.removed(ctx, 'team_deleted');
    const existing = await installationOfTeam(this.hub.db, ctx.teamId);
    if (!existing?.enabled || !ctx.serviceUrl) return 'ignored';
    const channels = await this.channels(ctx.serviceUrl, ctx.teamId, log);
    const current = teamsConfig(existing);
    const next: TeamsInstallConfig = { ...current, serviceUrl: ctx.serviceUrl, ...(channels ? { channels } : {}), ...(ctx.kind === 'team' && ctx.teamName ? { teamName: ctx.teamName } : {}) };
    await withAccount(this.hub.db, existing.accountId, (tx) => updateChannel(tx, this.hub.box, existing.id, { config: next as unknown as Record<string, unknown> }));
    this.hub.installations.forget();
    return 'updated';
  }

  /**
   * The installation is marked disconnected (disabled: nothing calls Teams for it) and admins are told:
   * an audit entry, a realtime event, and its state in GET /api/v1/msteams/installs. Threads and settings
   * stay for a reinstall, which enables it again. False when it was disconnected already.
   */
  async disconnect(accountId: string, installationId: string, reason: string): Promise<boolean> {
    const at = new Date().toISOString();
    const done = await withAccount(this.hub.db, accountId, async (tx) => {
      const row = await getChannel(tx, installationId);
      if (!row || !row.enabled || row.kind !== 'teams') return false;
      await updateChannel(tx, this.hub.box, installationId, { enabled: false, config: { ...row.config, disconnected: { reason, at } } });
      await audit(tx, { accountId, actorKind: 'system', actorId: null, action: 'msteams.disconnected', targetKind: 'channel', targetId: installationId, data: { reason, teamsTeamId: row.externalKey } });
      return true;
    });
    if (!done) return false;
    this.hub.installations.forget();
    this.hub.bus.publish(accountId, { type: 'channel.disconnected', channelId: installationId, kind: 'teams', reason });
    this.hub.log.warn({ installationId, reason }, 'teams: installation disconnected; add the app to the team again to reconnect');
    return true;
  }

  /**
   * A call into a team was refused by the roster (403). Refused for the team itself too: the bot is gone,
   * so the installation is disconnected. Else only that channel refused it (private or shared).
   */
  async rosterRefused(accountId: string, installationId: string, serviceUrl: string, teamId: string): Promise<'disconnected' | 'channel'> {
    try {
      await this.deps.client().teamChannels(serviceUrl, teamId);
      return 'channel';
    } catch (err) {
      if (!(err instanceof TeamsRosterRefusedError)) throw err;
      await this.disconnect(accountId, installationId, 'roster_refused');
      return 'disconnected';
    }
  }

  claim(accountId: string, code: string, actor: { kind: 'user' | 'api_key' | 'system' | 'ai'; id: string | null }): Promise<{ id: string }> {
    return claimTeam(this.hub, accountId, code, actor);
  }

  private async channels(serviceUrl: string, teamId: string, log: FastifyBaseLogger): Promise<TeamsChannelInfo[] | undefined> {
    try {
      return await teamChannelsOf(this.deps.client(), serviceUrl, teamId);
    } catch (err) {
      log.warn({ err, teamsTeamId: teamId }, 'teams: could not list the team’s channels');
      return undefined;
    }
  }
}

/** An admin claims a team with the code the bot posted there; the team becomes this account's installation. */
export async function claimTeam(hub: Hub, accountId: string, code: string, actor: { kind: 'user' | 'api_key' | 'system' | 'ai'; id: string | null }): Promise<{ id: string }> {
  const pending = await takePendingByCode(hub.db, hashCode(code));
  if (!pending) throw new HubError(400, 'teams_link_code_invalid', 'no team waits for this code (mistyped, used or expired): mention HummDesk with "connect" in the team for a new one');
  if (await installationOfTeam(hub.db, pending.teamId)) throw conflict('teams_team_taken', 'this Teams team is connected to an account already');
  const config: TeamsInstallConfig = {
    tenantId: pending.tenantId, serviceUrl: pending.serviceUrl, channels: pending.channels, threadReplies: 'notes',
    ...(pending.aadGroupId ? { aadGroupId: pending.aadGroupId } : {}), ...(pending.name ? { teamName: pending.name } : {}),
    // The General channel is where the bot was added: a home until an admin maps teams and inboxes.
    defaultTriageChannel: pending.teamId,
  };
  const row = await withAccount(hub.db, accountId, async (tx) => {
    const ch = await insertChannel(tx, hub.box, { accountId, kind: 'teams', name: pending.name ?? 'Microsoft Teams', externalKey: pending.teamId, config: config as unknown as Record<string, unknown> });
    await audit(tx, { accountId, actorKind: actor.kind, actorId: actor.id, action: 'msteams.connected', targetKind: 'channel', targetId: ch.id, data: { teamsTeamId: pending.teamId, tenantId: pending.tenantId } });
    return ch;
  });
  hub.installations.forget();
  return { id: row.id };
}
