import { describe, expect, it } from 'vitest';
import { decodeSlackPayload } from './payload.js';
import { installationKeyOf, installationKeys, installationRoute } from './routing.js';
import { SlackDriver, appRateLimited, envelope, personMessage, sharedEnvelope } from './testing/driver.js';

const driver = new SlackDriver('routing-secret');
const decode = (signed: { body: Buffer; headers: Record<string, string> }) => decodeSlackPayload(signed.headers, signed.body);
const message = personMessage({ channel: 'C0SHARED', user: 'UCUST', userTeam: 'T0CUSTOMER', text: 'hello', ts: '1700000000.000100' });

describe('which installation a Slack payload is for', () => {
  it('an event in a Slack Connect channel the customer created goes to our installation (authorizations), not the envelope team', () => {
    const p = decode(driver.event(sharedEnvelope({ eventTeam: 'T0CUSTOMER', installedTeam: 'T0OURS', event: message })));
    expect(installationRoute(p)).toEqual({ teamId: 'T0OURS', isEnterpriseInstall: false });
    expect(installationKeyOf(p)).toBe('T0OURS');
  });

  it('falls back to the envelope team_id only when authorizations are absent', () => {
    const { authorizations: _, ...bare } = envelope('T0OLD', message);
    expect(installationKeyOf(decode(driver.event(bare)))).toBe('T0OLD');
    expect(installationKeyOf(decode(driver.event({ ...bare, authorizations: [] })))).toBe('T0OLD');
    // An org-wide install: the authorization's team is null, the enterprise names the installation.
    const grid = decode(driver.event(sharedEnvelope({ eventTeam: 'T0CUSTOMER', installedTeam: 'T0IGNORED', enterpriseId: 'E0OURS', isEnterpriseInstall: true, event: message })));
    expect(installationKeys(installationRoute(grid))).toEqual(['E0OURS', 'T0IGNORED']);
    const gridNoTeam = decode(driver.event({ ...bare, authorizations: [{ enterprise_id: 'E0OURS', team_id: null, is_enterprise_install: true, user_id: 'UBOT', is_bot: true }] }));
    expect(installationRoute(gridNoTeam)).toEqual({ teamId: 'T0OLD', enterpriseId: 'E0OURS', isEnterpriseInstall: true });
    expect(installationKeyOf(gridNoTeam)).toBe('E0OURS');
  });

  it('view payloads go by view.app_installed_team_id (a modal opened in a Slack Connect channel), then team, then user', () => {
    const user = { id: 'UCUST', team_id: 'T0CUSTOMER' };
    const view = { id: 'V1', type: 'modal', callback_id: 'hd_compose', app_installed_team_id: 'T0OURS', team_id: 'T0CUSTOMER' };
    expect(installationKeyOf(decode(driver.interaction({ type: 'view_submission', team: { id: 'T0CUSTOMER' }, user, view })))).toBe('T0OURS');
    expect(installationKeyOf(decode(driver.interaction({ type: 'view_closed', team: { id: 'T0CUSTOMER' }, user, view })))).toBe('T0OURS');
    expect(installationKeyOf(decode(driver.interaction({ type: 'block_actions', team: { id: 'T0CUSTOMER' }, user, container: { type: 'view', view_id: 'V1' }, view, actions: [] })))).toBe('T0OURS');
    expect(installationKeyOf(decode(driver.interaction({ type: 'block_actions', team: { id: 'T0X' }, user, actions: [] })))).toBe('T0X');
    expect(installationKeyOf(decode(driver.interaction({ type: 'block_actions', team: null, user: { id: 'U1', team_id: 'T0Y' }, enterprise: { id: 'E1' }, actions: [] })))).toBe('T0Y');
  });

  it('slash commands, app_rate_limited and unknown types by their team; handshakes and garbage by nothing', () => {
    expect(installationKeyOf(decode(driver.command({ command: '/hummdesk', team_id: 'T0Y', text: 'help' })))).toBe('T0Y');
    expect(installationKeyOf(decode(driver.event(appRateLimited('T0Z', 1700000040))))).toBe('T0Z');
    expect(installationKeyOf(decode(driver.event({ type: 'some_future_envelope', team_id: 'T0W' })))).toBe('T0W');
    expect(installationKeyOf(decode(driver.sslCheck()))).toBeUndefined();
    expect(installationKeyOf(decode({ body: Buffer.from('[1]'), headers: { 'content-type': 'application/json' } }))).toBeUndefined();
  });
});
