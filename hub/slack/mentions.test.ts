import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { SlackClients } from '../../connectors/slack/client.js';
import { slackToPlain } from '../../connectors/slack/text.js';
import { SlackEmulator, type EmulatedWorkspace } from '../../connectors/slack/testing/emulator.js';
import { SlackMentionNames } from './mentions.js';

describe('agent mentions in a Slack reply', () => {
  let emulator: SlackEmulator;
  let ws: EmulatedWorkspace;
  let install: ChannelInstallation;
  let names: SlackMentionNames;
  let now = 0;
  beforeAll(async () => {
    emulator = await SlackEmulator.start();
    ws = emulator.addWorkspace({ teamId: 'T0MENTION', users: [{ id: 'UAINO', name: 'aino', realName: 'Aino\nAgent <b>' }, { id: 'UBEA', name: 'bea' }] });
    install = { id: 'i1', accountId: 'a1', kind: 'slack', externalKey: 'T0MENTION', teamId: null, config: {}, secrets: { botToken: ws.botToken } };
    names = new SlackMentionNames(new SlackClients({ slackApiUrl: emulator.apiUrl }), () => now);
  });
  afterAll(() => emulator?.close());

  it('reach the customer as names, never as Slack user ids', async () => {
    const text = await names.label(install, '<@UAINO> and <@UBEA> will call you, <@UBEA|bea b> too');
    expect(slackToPlain(text)).toBe('@Aino Agent b and @bea will call you, @bea b too');
  });

  it('ask users.info once an hour per person; a failed lookup is not remembered', async () => {
    const before = emulator.callsOf('users.info').length;
    await names.label(install, '<@UAINO> <@UAINO>');
    expect(emulator.callsOf('users.info').length).toBe(before);
    now += 61 * 60_000;
    await names.label(install, '<@UAINO>');
    expect(emulator.callsOf('users.info').length).toBe(before + 1);

    expect(slackToPlain(await names.label(install, 'ask <@UNEW>'))).toBe('ask @colleague');
    ws.users.push({ id: 'UNEW', name: 'nina', realName: 'Nina New' });
    expect(slackToPlain(await names.label(install, 'ask <@UNEW>'))).toBe('ask @Nina New');
  });
});
