import { describe, expect, it } from 'vitest';
import { installationKeyOf } from './socket-mode.js';
import { decodeSlackPayload } from './payload.js';
import { envelope } from './testing/driver.js';

const json = (body: unknown) => decodeSlackPayload({ 'content-type': 'application/json' }, Buffer.from(JSON.stringify(body)));
const form = (fields: Record<string, string>) => decodeSlackPayload({ 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from(new URLSearchParams(fields).toString()));

describe('installationKeyOf', () => {
  it('routes an event by the installation that authorised it, not the workspace it happened in', () => {
    // A Slack Connect channel the customer's organisation created: the outer team_id is theirs.
    expect(installationKeyOf(json(envelope('T0OURS', { type: 'message', channel: 'C1', ts: '1.1' }, { team_id: 'T0CUSTOMER' })))).toBe('T0OURS');
    expect(installationKeyOf(json(envelope('T0OURS', { type: 'message' }, { authorizations: undefined })))).toBe('T0OURS');
  });

  it('routes an org-wide Enterprise Grid install by its enterprise id', () => {
    const e = envelope('T0WS', { type: 'message' }, { enterprise_id: 'E0ORG', authorizations: [{ enterprise_id: 'E0ORG', team_id: null, is_enterprise_install: true, user_id: 'UBOT', is_bot: true }] });
    expect(installationKeyOf(json(e))).toBe('E0ORG');
  });

  it('routes a view by the team that installed the app, then by the team of the interaction', () => {
    const view = { type: 'view_submission', team: { id: 'T0CUSTOMER' }, user: { id: 'U1', team_id: 'T0CUSTOMER' }, view: { id: 'V1', type: 'modal', app_installed_team_id: 'T0OURS' } };
    expect(installationKeyOf(form({ payload: JSON.stringify(view) }))).toBe('T0OURS');
    expect(installationKeyOf(form({ payload: JSON.stringify({ type: 'block_actions', team: { id: 'T0OURS' }, user: { id: 'U1' } }) }))).toBe('T0OURS');
    expect(installationKeyOf(form({ command: '/hummdesk', team_id: 'T0OURS', text: '' }))).toBe('T0OURS');
  });
});
