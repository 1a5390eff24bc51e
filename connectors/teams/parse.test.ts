import { describe, expect, it } from 'vitest';
import { parseActivity } from './parse.js';
import { checkCase, conformanceCases, HAND_WRITTEN } from './conformance.js';
import { BotConnectorEmulator } from './testing/emulator.js';
import { TeamsDriver } from './testing/driver.js';

const { cases, skipped } = conformanceCases();
if (skipped.length) console.warn(`SKIPPED: Teams protocol sets not found: ${skipped.join(', ')} (set HUMMDESK_CORPUS_DIR or put shared/data beside the repo)`);

describe('Teams parse conformance', () => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const r = checkCase(c);
    expect(r.problems).toEqual([]);
  });

  it('marks nothing we handle as ignored: messages, submits, actions and installs of the sets all parse as such', () => {
    const handled = cases.filter((c) => c.expected && c.expected.kind !== 'ignored');
    expect(handled.length).toBeGreaterThanOrEqual(HAND_WRITTEN.length - 1);
    for (const c of handled) expect(checkCase(c).result?.kind).toBe(c.expected!.kind);
  });
});

describe('parseActivity', () => {
  // Only the driver's shape is used here; no server is started.
  const emulator = { appId: 'app', botId: '28:app', serviceUrl: 'https://smba.trafficmanager.net/amer/', keys: [] } as unknown as BotConnectorEmulator;
  const driver = new TeamsDriver(emulator, () => 1_767_000_000_000);
  const team = { id: '19:team@thread.tacv2', name: 'Support', tenantId: 'tenant-1', aadGroupId: 'g', channels: [], members: [], botInstalled: true };
  const other = { id: '29:other', name: 'Olli Other', aadObjectId: 'aad-olli' };

  it('strips our bot mention, keeps others as @Name, and knows the thread', () => {
    const a = driver.message(team, '19:ch@thread.tacv2', 'please look', { rootId: '111', mentionBot: true, mention: other });
    expect(parseActivity(a)).toMatchObject({
      kind: 'message', text: '@Olli Other please look', mentionedBot: true, mentions: [{ id: '29:other', name: 'Olli Other' }],
      teamId: team.id, channelId: '19:ch@thread.tacv2', tenantId: 'tenant-1', conversation: { type: 'channel', rootId: '111' }, attachments: [],
    });
  });

  it('reads an Action.Submit fallback as a submit with its value, and an Action.Execute invoke as an action', () => {
    expect(parseActivity(driver.submit(team, '19:ch', '111', '222', { verb: 'resolve', conversationId: 'c1' }))).toMatchObject({ kind: 'submit', verb: 'resolve', value: { verb: 'resolve', conversationId: 'c1' }, replyToId: '222' });
    expect(parseActivity(driver.invoke(team, '19:ch', '111', '222', 'snooze', { until: 'tomorrow' }))).toMatchObject({ kind: 'action', verb: 'snooze', data: { until: 'tomorrow' }, replyToId: '222' });
  });

  it('reads installs, removals, installationUpdate and channel events with team and tenant', () => {
    expect(parseActivity(driver.installed(team))).toMatchObject({ kind: 'installed', scope: 'team', teamId: team.id, tenantId: 'tenant-1', teamName: 'Support', serviceUrl: emulator.serviceUrl });
    expect(parseActivity(driver.removed(team))).toMatchObject({ kind: 'uninstalled', scope: 'team', teamId: team.id });
    expect(parseActivity(driver.installationUpdate(team, 'add-upgrade'))).toMatchObject({ kind: 'installed', via: 'installationUpdate' });
    expect(parseActivity(driver.channelEvent(team, 'channelRenamed', { id: '19:x', name: 'Escalations' }))).toMatchObject({ kind: 'channel', event: 'renamed', channel: { id: '19:x', name: 'Escalations' } });
  });

  it('never throws: junk of every shape becomes ignored with a reason', () => {
    const junk: unknown[] = [null, 42, 'message', [], {}, { type: 7 }, { type: 'message', channelId: 'msteams' }, { type: 'message', channelId: 'msteams', conversation: { id: 5 } },
      { type: 'message', channelId: 'msteams', conversation: { id: 'x' }, entities: 'nope', attachments: { a: 1 }, text: 3 },
      { type: 'invoke', channelId: 'msteams', name: 'adaptiveCard/action', conversation: { id: 'x' }, value: { action: 'x' } },
      { type: 'conversationUpdate', channelId: 'msteams', conversation: { id: 'x' }, membersAdded: [null, 1, { id: 2 }], channelData: { eventType: 'channelCreated', channel: null } }];
    for (const j of junk) {
      const r = parseActivity(j);
      expect(r.kind).toBe('ignored');
      if (r.kind === 'ignored') expect(r.reason).toBeTruthy();
    }
  });
});
