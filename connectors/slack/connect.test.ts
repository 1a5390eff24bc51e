import { describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent, NormalizedMessage } from '../core/types.js';
import { SlackConnector } from './connector.js';
import { SlackClients } from './client.js';
import { SlackDriver, appMessage, envelope, fileStub, messageChanged, messageDeleted, personMessage, sharedEnvelope } from './testing/driver.js';

/** Parsing what Slack Connect channels deliver: customers, our own staff, other apps, edits and deletions, file stubs. */

const NOW = new Date('2026-03-02T10:00:00Z');
const driver = new SlackDriver('connect-secret', () => NOW);
const connector = new SlackConnector(new SlackClients(), () => NOW);
const channel: ChannelInstallation = {
  id: '11111111-2222-3333-4444-555555555555', accountId: '99999999-2222-3333-4444-555555555555', kind: 'slack', externalKey: 'T0OURS', teamId: null,
  config: { botUserId: 'UBOTOURS', appId: 'AHUMMDESK1', customerChannels: ['C0INTERNAL'], defaultTriageChannel: 'C0TRIAGE' },
  secrets: { signingSecret: 'connect-secret', botToken: 'xoxb-unused' },
};
const shared = (event: Record<string, unknown>) => connector.parse({ ...driver.request(driver.event(sharedEnvelope({ eventTeam: 'T0CUSTOMER', installedTeam: 'T0OURS', botUserId: 'UBOTOURS', event }))), channel });
const message = (events: InboundEvent[]): NormalizedMessage => {
  expect(events).toHaveLength(1);
  expect(events[0]!.type).toBe('message');
  return (events[0] as { message: NormalizedMessage }).message;
};
const ts = '1772445540.000100';

describe('slack connect: who is writing', () => {
  it('a customer of the other organisation is inbound', () => {
    const m = message(shared(personMessage({ channel: 'C0SHARED', user: 'UCUST', userTeam: 'T0CUSTOMER', text: 'help', ts })));
    expect(m).toMatchObject({ direction: 'inbound', sender: { externalId: 'UCUST', isBot: false } });
    expect(m.sender.staff).toBeUndefined();
  });

  it('our own staff in a shared channel are our side (outbound, staff), never a customer', () => {
    const m = message(shared(personMessage({ channel: 'C0SHARED', user: 'UAGENT', userTeam: 'T0OURS', text: 'on it', ts, threadTs: '1772445500.000100' })));
    expect(m).toMatchObject({ direction: 'outbound', sender: { externalId: 'UAGENT', isBot: false, staff: true } });
  });

  it('in a listed channel of our own workspace (an internal help desk) colleagues are the customers', () => {
    const ev = envelope('T0OURS', personMessage({ channel: 'C0INTERNAL', user: 'UCOLLEAGUE', userTeam: 'T0OURS', text: 'laptop broken', ts }));
    const m = message(connector.parse({ ...driver.request(driver.event(ev)), channel }));
    expect(m).toMatchObject({ direction: 'inbound', sender: { isBot: false } });
  });

  it('another app or workflow is inbound; only our own bot is an echo', () => {
    const legacy = message(shared(appMessage({ channel: 'C0SHARED', botId: 'B0FORMS', appId: 'A0FORMS', name: 'Request form', text: 'New request: refund', ts })));
    expect(legacy).toMatchObject({ direction: 'inbound', sender: { externalId: 'B0FORMS', displayName: 'Request form', isBot: true } });
    const workflow = message(shared(appMessage({ channel: 'C0SHARED', botId: 'B0WF', appId: 'A0WF', botUserId: 'U0WFBOT', name: 'Intake workflow', text: 'Ticket from Ann', ts })));
    expect(workflow.direction).toBe('inbound');
    const ours = message(shared(appMessage({ channel: 'C0SHARED', botId: 'B0OURS', appId: 'AHUMMDESK1', botUserId: 'UBOTOURS', name: 'HummDesk', text: 'Reply', ts })));
    expect(ours).toMatchObject({ direction: 'outbound', sender: { isBot: true } });
    // An installation that does not know its own identity cannot tell: every bot counts as ours.
    const blind = { ...channel, config: { customerChannels: ['C0SHARED'] } };
    const e = connector.parse({ ...driver.request(driver.event(envelope('T0OURS', appMessage({ channel: 'C0SHARED', botId: 'B0FORMS', appId: 'A0FORMS', name: 'x', text: 'y', ts })))), channel: blind });
    expect(message(e).direction).toBe('outbound');
  });
});

describe('slack connect: edits, deletions, files', () => {
  it('a customer edit becomes an edited event for the stored message; unfurls and our own chat.update do not', () => {
    const events = shared(messageChanged({ channel: 'C0SHARED', ts, user: 'UCUST', userTeam: 'T0CUSTOMER', text: 'help *now*', previousText: 'help', editedTs: '1772445600.000200' }));
    expect(events).toEqual([{ type: 'edited', channelId: channel.id, externalId: `C0SHARED:${ts}`, text: 'help *now*', editedAt: '2026-03-02T10:00:00.000200Z', threadKey: `slack:${channel.id}:C0SHARED:${ts}` }]);
    const unfurl = messageChanged({ channel: 'C0SHARED', ts, user: 'UCUST', userTeam: 'T0CUSTOMER', text: 'help', previousText: 'help', editedTs: '1772445600.000200' });
    delete (unfurl.message as Record<string, unknown>).edited;
    expect(shared(unfurl)[0]!.type).toBe('ignored');
    const ours = messageChanged({ channel: 'C0SHARED', ts, user: 'UBOTOURS', userTeam: 'T0OURS', text: 'x', previousText: 'y', editedTs: '1772445600.000200' });
    expect(shared(ours)[0]!.type).toBe('ignored');
  });

  it('a deletion (and a deleted thread root, which Slack sends as a tombstone) becomes a deleted event', () => {
    expect(shared(messageDeleted({ channel: 'C0SHARED', deletedTs: ts, eventTs: '1772445600.000300', user: 'UCUST', userTeam: 'T0CUSTOMER', previousText: 'help', threadTs: '1772445500.000100' }))).toEqual([
      { type: 'deleted', channelId: channel.id, externalId: `C0SHARED:${ts}`, deletedAt: '2026-03-02T10:00:00.000300Z', threadKey: `slack:${channel.id}:C0SHARED:1772445500.000100` },
    ]);
    const tomb = messageChanged({ channel: 'C0SHARED', ts, user: 'USLACKBOT', userTeam: 'T0CUSTOMER', text: 'This message was deleted.', previousText: 'help', editedTs: '1772445600.000200' });
    (tomb.message as Record<string, unknown>).subtype = 'tombstone';
    expect(shared(tomb)[0]).toMatchObject({ type: 'deleted', externalId: `C0SHARED:${ts}` });
  });

  it('a file stub of another organisation (check_file_info) is kept by id, for files.info', () => {
    const stub = fileStub('F0STUB');
    const m = message(shared(personMessage({ channel: 'C0SHARED', user: 'UCUST', userTeam: 'T0CUSTOMER', text: 'see attached', ts, files: [stub] })));
    expect(m.attachments).toEqual([{ kind: 'file', ref: 'slack-file:F0STUB' }]);
  });
});
