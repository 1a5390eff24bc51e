import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, OutboundMessage } from '../core/types.js';
import { PermanentError } from '../core/errors.js';
import { SLACK_MAX_TEXT, SlackConnector, slackThreadKey } from './connector.js';
import { SlackClients } from './client.js';
import { escapeMrkdwn } from './text.js';
import { SlackEmulator, type EmulatedWorkspace } from './testing/emulator.js';

describe('slack send: replies longer than Slack takes', () => {
  let emulator: SlackEmulator;
  let ws: EmulatedWorkspace;
  let sender: SlackConnector;
  let install: ChannelInstallation;
  beforeAll(async () => {
    emulator = await SlackEmulator.start();
    ws = emulator.addWorkspace({ teamId: 'T0LONG', channels: [{ id: 'C0CUST', name: 'acme-support', isMember: true, isExtShared: true }] });
    sender = new SlackConnector(new SlackClients({ slackApiUrl: emulator.apiUrl }));
    install = { id: '11111111-2222-3333-4444-555555555555', accountId: '99999999-2222-3333-4444-555555555555', kind: 'slack', externalKey: 'T0LONG', teamId: null, config: {}, secrets: { signingSecret: 's', botToken: ws.botToken } };
  });
  afterAll(() => emulator?.close());
  const outbound = (threadTs: string, text: string): OutboundMessage => ({
    channel: install, conversation: { id: 'c1', threadKey: slackThreadKey(install.id, 'C0CUST', threadTs) }, recipient: { externalId: 'UCUST1' },
    author: { displayName: 'Aino Agent' }, text, attachments: [], idempotencyKey: 'm1',
  });

  it('declares Slack’s limit and measures it after escaping: a long reply arrives whole, in order, in parts Slack accepts', async () => {
    expect(sender.capabilities.maxTextLength).toBe(SLACK_MAX_TEXT);
    const root = emulator.postAsUser('T0LONG', 'C0CUST', 'UCUST1', 'tell me everything');
    // 36,000 characters as written (under Slack's 40,000), 46,000 once `&`, `<` and `>` are escaped.
    const text = 'Terms & conditions <section> apply. '.repeat(1000);
    const sent = await sender.send(outbound(root.ts, text));
    const replies = emulator.replies('C0CUST', root.ts);
    expect(replies.length).toBeGreaterThan(1);
    for (const r of replies) expect(r.text.length).toBeLessThanOrEqual(SLACK_MAX_TEXT);
    expect(replies.map((r) => r.text).join('')).toBe(escapeMrkdwn(text));
    expect(sent.externalId).toBe(`C0CUST:${replies[0]!.ts}`);
    expect(emulator.callsOf('chat.postMessage').filter((c) => c.error)).toEqual([]);
  });

  it('a reply cut off after its first part is not retried into a second copy', async () => {
    const root = emulator.postAsUser('T0LONG', 'C0CUST', 'UCUST1', 'again');
    const text = 'x'.repeat(SLACK_MAX_TEXT + 10);
    // Slack stops taking the token once the first part is in.
    emulator.onMessage((m) => {
      if (m.threadTs === root.ts && emulator.replies('C0CUST', root.ts).length === 1) emulator.revokeToken(ws.botToken);
    });
    const err = await sender.send(outbound(root.ts, text)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).code).toBe('slack_reply_partly_sent');
    emulator.restoreToken(ws.botToken);
  });
});
