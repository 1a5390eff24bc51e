import type { SlackPayload } from './payload.js';

/**
 * Which installation of our app a Slack payload is for, as Slack's own SDKs decide it (Bolt's
 * `buildSource`). An event carries `authorizations`: the installation it is delivered to. In a Slack
 * Connect channel the envelope's `team_id` is whichever workspace the event happened in (the
 * customer's, when they created the channel), so it is only the fallback when authorizations are
 * absent. A view payload names the workspace that opened it in `view.app_installed_team_id`.
 * Pure: the Request URL and Socket Mode both route with it.
 */
export interface InstallationRoute {
  teamId?: string;
  enterpriseId?: string;
  /** An org-wide (Enterprise Grid) install: stored under the enterprise id, not a workspace. */
  isEnterpriseInstall: boolean;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

export function installationRoute(p: SlackPayload): InstallationRoute | undefined {
  switch (p.kind) {
    case 'event': {
      const e = p.envelope;
      const auth = Array.isArray(e.authorizations) ? e.authorizations[0] : undefined;
      if (auth && typeof auth === 'object')
        return {
          teamId: text(auth.team_id) ?? text(e.team_id),
          enterpriseId: text(auth.enterprise_id) ?? undefined,
          isEnterpriseInstall: auth.is_enterprise_install === true,
        };
      return nonEmpty({ teamId: text(e.team_id), enterpriseId: text(e.enterprise_id), isEnterpriseInstall: false });
    }
    case 'interaction': {
      const i = p.interaction;
      // A modal opened from a Slack Connect channel: the installed workspace, not the clicking user's.
      const viewTeam = i.view && typeof i.view === 'object' ? text(i.view.app_installed_team_id) : undefined;
      const team = i.team && typeof i.team === 'object' ? i.team : undefined;
      return nonEmpty({
        teamId: viewTeam ?? text(team?.id) ?? text(i.user?.team_id),
        enterpriseId: text(i.enterprise?.id) ?? text(team?.enterprise_id),
        isEnterpriseInstall: i.is_enterprise_install === true,
      });
    }
    case 'command':
      return nonEmpty({ teamId: text(p.command.team_id), enterpriseId: text(p.command.enterprise_id), isEnterpriseInstall: p.command.is_enterprise_install === true });
    case 'app_rate_limited':
      return { teamId: p.teamId, isEnterpriseInstall: false };
    case 'unknown':
      return p.teamId ? { teamId: p.teamId, isEnterpriseInstall: false } : undefined;
    default:
      return undefined;
  }
}

/** The installation keys (channel `external_key`) to look up, best first: an org-wide install by its enterprise id. */
export function installationKeys(route: InstallationRoute | undefined): string[] {
  if (!route) return [];
  const ordered = route.isEnterpriseInstall ? [route.enterpriseId, route.teamId] : [route.teamId, route.enterpriseId];
  return [...new Set(ordered.filter((k): k is string => !!k))];
}

/** The first key, for callers that know one installation per key (`Connector.locate`). */
export function installationKeyOf(p: SlackPayload): string | undefined {
  return installationKeys(installationRoute(p))[0];
}

function nonEmpty(r: InstallationRoute): InstallationRoute | undefined {
  return r.teamId || r.enterpriseId ? r : undefined;
}
