import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, InboundEvent, NormalizedMessage, OutboundMessage } from '../core/types.js';
import { AuthError, PermanentError, RateLimitError, VerificationError } from '../core/errors.js';
import { connectorContract } from '../core/contract.js';
import { SlackConnector, slackThreadKey } from './connector.js';
import { SlackClients } from './client.js';
import { SlackDriver, envelope, signSlackRequest } from './testing/driver.js';
import { SlackEmulator, type EmulatedWorkspace } from './testing/emulator.js';
import { escapeMrkdwn, slackToPlain, truncate } from './text.js';

const NOW = new Date('2026-03-02T10:00:00Z');
const clock = () => NOW;
const SECRET = 'slack-signing-secret-for-tests';
const channel: ChannelInstallation = {
  id: '11111111-2222-3333-4444-555555555555',
  accountId: '99999999-2222-3333-4444-555555555555',
  kind: 'slack',
  externalKey: 'T0CUSTOMER',
  teamId: null,
  config: { botUserId: 'UBOTME', customerChannels: ['C0CUSTOMER'], defaultTriageChannel: 'C0TRIAGE' },
  secrets: { signingSecret: SECRET, botToken: 'xoxb-unused' },
};
const driver = new SlackDriver(SECRET, clock);
const connector = new SlackConnector(new SlackClients(), clock);
const ts0 = String(NOW.getTime() / 1000 - 60) + '.000100';
const customerMessage = (over: Record<string, unknown> = {}) => envelope('T0CUSTOMER', { type: 'message', channel: 'C0CUSTOMER', user: 'UCUST1', text: 'Hi &lt;team&gt; <@U123|ann> my invoice', ts: ts0, channel_type: 'channel', ...over });
const parse = (body: Record<string, unknown>) => connector.parse({ ...driver.request(driver.event(body)), channel });
const only = (events: InboundEvent[]): NormalizedMessage => {
  expect(events).toHaveLength(1);
  expect(events[0]!.type).toBe('message');
  return (events[0] as { message: NormalizedMessage }).message;
};

connectorContract('slack', () => ({
  connector,
  channel,
  validRequest: () => driver.request(driver.event(customerMessage())),
  tamperedRequest: () => {
    const r = driver.request(driver.event(customerMessage()));
    return { ...r, rawBody: Buffer.from(r.rawBody.toString('utf8').replace('invoice', 'invoicf')) };
  },
  staleRequest: () => driver.request(driver.event(customerMessage(), { timestamp: Math.floor(NOW.getTime() / 1000) - 301 })),
  echoRequest: () => driver.request(driver.event(customerMessage({ user: 'UBOTME', bot_id: 'BBOTME', ts: '1772445500.000200', thread_ts: ts0 }))),
}));

describe('slack verify', () => {
  const verify = (signed: { body: Buffer; headers: Record<string, string> }, now = clock) => connector.verify({ ...driver.request(signed, now), channel });
  it('accepts a request signed within five minutes either way, and refuses one just outside', async () => {
    const nowS = Math.floor(NOW.getTime() / 1000);
    await expect(verify(driver.event(customerMessage(), { timestamp: nowS - 300 }))).resolves.toBeUndefined();
    await expect(verify(driver.event(customerMessage(), { timestamp: nowS + 300 }))).resolves.toBeUndefined();
    await expect(verify(driver.event(customerMessage(), { timestamp: nowS - 301 }))).rejects.toMatchObject({ code: 'webhook_timestamp_stale' });
    await expect(verify(driver.event(customerMessage(), { timestamp: nowS + 301 }))).rejects.toMatchObject({ code: 'webhook_timestamp_stale' });
  });
  it('refuses another secret, a missing header and a non-numeric timestamp with stable codes', async () => {
    await expect(verify(driver.event(customerMessage(), { secret: 'other' }))).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
    const signed = driver.event(customerMessage());
    await expect(verify({ body: signed.body, headers: { ...signed.headers, 'x-slack-signature': '' } })).rejects.toBeInstanceOf(VerificationError);
    await expect(verify({ body: signed.body, headers: { ...signed.headers, 'x-slack-request-timestamp': 'soon' } })).rejects.toMatchObject({ code: 'webhook_timestamp_invalid' });
    await expect(verify({ body: signed.body, headers: { ...signed.headers, 'x-slack-signature': 'v0=abc' } })).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
    await expect(verify({ body: signed.body, headers: { ...signed.headers, 'x-slack-signature': signed.headers['x-slack-signature']!.replace('v0=', 'v1=') } })).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
  });
  it('signs the body\'s bytes as received: two bodies that decode to the same text do not share a signature', async () => {
    const ts = Math.floor(NOW.getTime() / 1000);
    // Not valid UTF-8 (0xff): a check over the decoded text would see U+FFFD for both bodies.
    const body = Buffer.concat([Buffer.from('{"type":"event_callback","x":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const other = Buffer.concat([Buffer.from('{"type":"event_callback","x":"'), Buffer.from([0xfe]), Buffer.from('"}')]);
    const headers = { 'content-type': 'application/json', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(SECRET, ts, body) };
    await expect(verify({ body, headers })).resolves.toBeUndefined();
    await expect(verify({ body: other, headers })).rejects.toMatchObject({ code: 'webhook_signature_invalid' });
  });
  it('uses the injected clock, not the machine time', async () => {
    const later = () => new Date(NOW.getTime() + 10 * 60_000);
    await expect(verify(driver.event(customerMessage()), later)).rejects.toMatchObject({ code: 'webhook_timestamp_stale' });
  });
});

describe('slack locate and handshake', () => {
  it('finds the team in events, interactivity and slash commands', () => {
    expect(connector.locate(driver.request(driver.event(customerMessage())))).toBe('T0CUSTOMER');
    expect(connector.locate(driver.request(driver.interaction({ type: 'block_actions', team: { id: 'T0X' }, user: { id: 'U1', team_id: 'T0X' } })))).toBe('T0X');
    expect(connector.locate(driver.request(driver.command({ command: '/hummdesk', team_id: 'T0Y', text: 'help' })))).toBe('T0Y');
    expect(connector.locate(driver.request({ body: Buffer.from('not json'), headers: { 'content-type': 'application/json' } }))).toBeUndefined();
  });
  it('answers url_verification with the challenge', () => {
    const r = driver.request(driver.event({ token: 't', challenge: 'abc123', type: 'url_verification' }));
    expect(connector.handshake(r)).toEqual({ status: 200, body: 'abc123', contentType: 'text/plain' });
    expect(connector.handshake(driver.request(driver.event(customerMessage())))).toBeUndefined();
  });
});

describe('slack parse', () => {
  it('starts a conversation from a top-level message and continues it from its thread', () => {
    const root = only(parse(customerMessage()));
    expect(root).toMatchObject({
      externalId: `C0CUSTOMER:${ts0}`,
      threadKey: slackThreadKey(channel.id, 'C0CUSTOMER', ts0),
      direction: 'inbound',
      sender: { externalId: 'UCUST1', isBot: false },
      text: 'Hi <team> @ann my invoice',
      sentAt: `${new Date(Math.floor(Number(ts0)) * 1000).toISOString().slice(0, 19)}.${ts0.split('.')[1]}Z`,
    });
    expect(root.inReplyToExternalId).toBeUndefined();
    const reply = only(parse(customerMessage({ ts: '1772445600.000300', thread_ts: ts0, text: 'any news?' })));
    expect(reply.threadKey).toBe(root.threadKey);
    expect(reply.inReplyToExternalId).toBe(root.externalId);
  });
  it('brings files along as attachments', () => {
    const m = only(parse(customerMessage({ subtype: 'file_share', files: [{ id: 'F1', name: 'bill.pdf', mimetype: 'application/pdf', size: 1234, url_private_download: 'https://files.slack.com/F1/bill.pdf' }, { id: 'F2', mimetype: 'image/png' }] })));
    expect(m.attachments).toEqual([
      { kind: 'file', name: 'bill.pdf', mimeType: 'application/pdf', size: 1234, ref: 'https://files.slack.com/F1/bill.pdf' },
      { kind: 'image', mimeType: 'image/png', ref: 'slack-file:F2' },
    ]);
  });
  it('flags our own posts as echoes; other apps and workflows are inbound (connect.test.ts has more)', () => {
    expect(only(parse(customerMessage({ user: 'UBOTME' }))).direction).toBe('outbound');
    expect(only(parse(customerMessage({ subtype: 'bot_message', bot_id: 'B9', user: undefined }))).direction).toBe('inbound');
  });
  it('ignores malformed edits and deletions, housekeeping, triage and non-customer channels with a reason', () => {
    const reasons = [
      customerMessage({ subtype: 'message_changed' }),
      customerMessage({ subtype: 'message_deleted' }),
      customerMessage({ subtype: 'channel_join' }),
      customerMessage({ channel: 'C0TRIAGE' }),
      customerMessage({ channel: 'C0RANDOM' }),
      envelope('T0CUSTOMER', { type: 'reaction_added', user: 'U1', reaction: '+1', item: { type: 'message', channel: 'C0CUSTOMER', ts: ts0 } }),
    ].map((b) => parse(b));
    for (const events of reasons) {
      expect(events).toHaveLength(1);
      expect(events[0]!.type).toBe('ignored');
      expect((events[0] as { reason: string }).reason.length).toBeGreaterThan(5);
    }
  });
  it('takes Slack Connect shared channels as customer channels unless switched off', () => {
    const shared = customerMessage({ channel: 'C0SHARED' });
    (shared as { is_ext_shared_channel?: boolean }).is_ext_shared_channel = true;
    expect(only(parse(shared)).threadKey).toContain(':C0SHARED:');
    const off = { ...channel, config: { ...channel.config, sharedChannelsAreCustomers: false } };
    expect(connector.parse({ ...driver.request(driver.event(shared)), channel: off })[0]!.type).toBe('ignored');
  });
  it('leaves interactivity and commands to the surface', () => {
    expect(connector.parse({ ...driver.request(driver.interaction({ type: 'block_actions', team: { id: 'T0CUSTOMER' }, user: { id: 'U1' } })), channel })[0]!.type).toBe('ignored');
    expect(connector.parse({ ...driver.request(driver.command({ command: '/hummdesk', team_id: 'T0CUSTOMER', text: '' })), channel })[0]!.type).toBe('ignored');
  });
});

describe('slack text', () => {
  it('escapes what would become mentions or links', () => {
    expect(escapeMrkdwn('<!channel> & <@U1> <https://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;');
  });
  it('turns Slack wire text into plain text', () => {
    expect(slackToPlain('<https://a.example/x|the docs> <mailto:a@b.c|a@b.c> <#C1|general> <!here> 1 &lt; 2 &amp;&amp; 3 &gt; 2')).toBe('the docs (https://a.example/x) a@b.c #general @here 1 < 2 && 3 > 2');
  });
  it('truncates without splitting a surrogate pair', () => {
    expect(truncate('ab😀cd', 4)).toEqual({ text: 'ab…', truncated: true });
    expect(truncate('abc', 3)).toEqual({ text: 'abc', truncated: false });
  });
});

/** Recorded payloads from real Slack apps; read in place, never copied into the repository. */
describe('slack parse conformance over recorded payloads', () => {
  const corpus = resolve(process.env.HUMMDESK_CORPUS_DIR ?? join(import.meta.dirname, '../../../shared/data'), 'protocol');
  const present = existsSync(join(corpus, 'vercel_chat_replay')) && existsSync(join(corpus, 'botbuilder_dotnet'));
  if (!present) console.warn(`[slack conformance] SKIPPED: no protocol corpus at ${corpus}`);
  const load = (p: string) => JSON.parse(readFileSync(join(corpus, p), 'utf8').replace(/^\uFEFF/, '')) as Record<string, Record<string, unknown>>;
  const asCustomer = (teamId: string, channels: string[], botUserId = 'U00FAKEBOT01'): ChannelInstallation => ({ ...channel, externalKey: teamId, config: { botUserId, customerChannels: channels } });
  const parseRaw = (raw: Buffer, contentType: string, install: ChannelInstallation) => connector.parse({ method: 'POST', path: '/webhooks/slack', headers: { 'content-type': contentType }, query: {}, rawBody: raw, channel: install });

  it.runIf(present)('maps recorded message events (top-level, thread follow-up, DM-as-customer, file share, bot post) by hand-checked expectations', () => {
    const replay = load('vercel_chat_replay/slack.json');
    const install = asCustomer('T00FAKE00AA', ['C00FAKECHAN1']);
    const mention = only(parseRaw(Buffer.from(JSON.stringify(replay.mention)), 'application/json', install));
    expect(mention).toMatchObject({ externalId: 'C00FAKECHAN1:1767224888.280449', threadKey: slackThreadKey(channel.id, 'C00FAKECHAN1', '1767224888.280449'), direction: 'inbound', text: '@U00FAKEBOT01 Hey', sender: { externalId: 'U00FAKEUSER1', isBot: false } });
    const follow = only(parseRaw(Buffer.from(JSON.stringify(replay.followUp)), 'application/json', install));
    expect(follow).toMatchObject({ threadKey: mention.threadKey, inReplyToExternalId: mention.externalId, text: 'Hi' });

    const streaming = load('vercel_chat_replay/streaming/slack.json');
    // The app's own bot (its user is the installation's bot user) posting: our echo. Another app's post would be inbound.
    const prompt = only(parseRaw(Buffer.from(JSON.stringify(streaming.promptMessage)), 'application/json', asCustomer('T08REALTEAM1', ['C08REALCHAN1'], 'U08REALBOT1')));
    expect(prompt.direction).toBe('outbound');
    const otherApp = only(parseRaw(Buffer.from(JSON.stringify(streaming.promptMessage)), 'application/json', asCustomer('T08REALTEAM1', ['C08REALCHAN1'])));
    expect(otherApp.direction).toBe('inbound');
    const threadFollow = only(parseRaw(Buffer.from(JSON.stringify(streaming.threadFollowUp)), 'application/json', asCustomer('T08REALTEAM1', ['C08REALCHAN1'])));
    expect(threadFollow).toMatchObject({ direction: 'inbound', text: 'ping?', threadKey: slackThreadKey(channel.id, 'C08REALCHAN1', '1775407823.782829') });

    const dm = load('vercel_chat_replay/dm/slack-direct.json');
    const direct = only(parseRaw(Buffer.from(JSON.stringify(dm.directDM)), 'application/json', asCustomer('T0ADGE2G4EM', ['D0ACX51K95H'])));
    expect(direct).toMatchObject({ text: 'hello hello', externalId: 'D0ACX51K95H:1771442483.260129' });

    const file = parseRaw(readFileSync(join(corpus, 'botbuilder_dotnet/slack_adapter/MessageBodyWithFileShare.json')), 'application/json', asCustomer('teamId', ['channelId']));
    expect(only(file).attachments).toEqual([{ kind: 'image', name: 'fileName', mimeType: 'image/png', ref: 'https://files.slack.com/files-pri/teamId-fileId/download/fileName.png' }]);
    const plain = only(parseRaw(readFileSync(join(corpus, 'botbuilder_dotnet/slack_adapter/MessageBody.json')), 'application/json', asCustomer('teamId', ['channelId'])));
    expect(plain).toMatchObject({ text: 'Hello', sender: { externalId: 'userId' }, externalId: 'channelId:1568915625.001000' });
  });

  it.runIf(present)('locates and leaves to the surface every recorded interaction and slash command, form-encoded or not', () => {
    const bodies: { raw: Buffer; team: string; kind: string }[] = [];
    for (const f of ['BlockActionsBody.txt', 'BlockActionsWithStringState.txt', 'SlashCommandBody.txt']) {
      const raw = readFileSync(join(corpus, 'botbuilder_dotnet/slack_adapter', f));
      bodies.push({ raw, team: f.startsWith('Slash') ? 'teamId' : 'TCKT7TGQ6', kind: f });
    }
    for (const [file, keys] of [['vercel_chat_replay/actions-reactions/slack.json', ['action', 'staticSelectAction', 'radioButtonsAction']], ['vercel_chat_replay/modals/slack.json', ['action', 'viewSubmission', 'ephemeralAction']], ['vercel_chat_replay/slash-commands/slack.json', ['slashCommand', 'slashCommandWithArgs']]] as const) {
      const data = load(file);
      for (const k of keys) {
        const p = data[k]!;
        const isCommand = typeof p.command === 'string';
        const raw = Buffer.from(isCommand ? new URLSearchParams(p as Record<string, string>).toString() : new URLSearchParams({ payload: JSON.stringify(p) }).toString());
        bodies.push({ raw, team: isCommand ? String(p.team_id) : String((p.team as { id: string }).id), kind: `${file}#${k}` });
      }
    }
    for (const b of bodies) {
      const req = { method: 'POST', path: '/webhooks/slack', headers: { 'content-type': 'application/x-www-form-urlencoded' }, query: {}, rawBody: b.raw };
      expect(connector.locate(req), b.kind).toBe(b.team);
      const events = connector.parse({ ...req, channel });
      expect(events, b.kind).toHaveLength(1);
      expect((events[0] as { reason: string }).reason, b.kind).toMatch(/handled by the agent surface/);
    }
    const verification = readFileSync(join(corpus, 'botbuilder_dotnet/slack_adapter/URLVerificationBody.json'));
    expect(connector.handshake({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, query: {}, rawBody: verification })?.body).toBe('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
  });
});

describe('slack send against the emulated Web API', () => {
  let emulator: SlackEmulator;
  let ws: EmulatedWorkspace;
  let sender: SlackConnector;
  let install: ChannelInstallation;
  beforeAll(async () => {
    emulator = await SlackEmulator.start();
    ws = emulator.addWorkspace({ teamId: 'T0SEND', channels: [{ id: 'C0CUST', name: 'acme-support', isMember: true, isExtShared: true }] });
    sender = new SlackConnector(new SlackClients({ slackApiUrl: emulator.apiUrl }), clock);
    install = { ...channel, externalKey: 'T0SEND', secrets: { signingSecret: SECRET, botToken: ws.botToken } };
  });
  afterAll(() => emulator?.close());
  const outbound = (threadTs: string, over: Partial<OutboundMessage> = {}): OutboundMessage => ({
    channel: install,
    conversation: { id: 'c1', threadKey: slackThreadKey(install.id, 'C0CUST', threadTs) },
    recipient: { externalId: 'UCUST1' },
    author: { displayName: 'Aino Agent' },
    text: 'Fixed <!channel> & done',
    attachments: [],
    idempotencyKey: 'm1',
    ...over,
  });

  it("posts into the customer's thread under the agent's name, escaped, with files", async () => {
    const root = emulator.postAsUser('T0SEND', 'C0CUST', 'UCUST1', 'help');
    const sent = await sender.send(outbound(root.ts, { attachments: [{ name: 'fix.txt', mimeType: 'text/plain', content: Buffer.from('patched') }] }));
    const [reply, file] = emulator.replies('C0CUST', root.ts);
    expect(sent.externalId).toBe(`C0CUST:${reply!.ts}`);
    expect(reply).toMatchObject({ text: 'Fixed &lt;!channel&gt; &amp; done', username: 'Aino Agent' });
    expect(file!.files).toEqual([expect.objectContaining({ name: 'fix.txt', size: 7 })]);
  });

  it('maps 429 to RateLimitError with Retry-After, revoked tokens to AuthError, unknown channels to PermanentError', async () => {
    const root = emulator.postAsUser('T0SEND', 'C0CUST', 'UCUST1', 'again');
    emulator.rateLimitNext('chat.postMessage', 7);
    const limited = await sender.send(outbound(root.ts)).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).retryAfterMs).toBe(7000);
    await expect(sender.send({ ...outbound(root.ts), conversation: { id: 'c', threadKey: slackThreadKey(install.id, 'C0GONE', root.ts) } })).rejects.toBeInstanceOf(PermanentError);
    await expect(sender.check(install)).resolves.toEqual({ ok: true });
    emulator.revokeToken(ws.botToken);
    await expect(sender.send(outbound(root.ts))).rejects.toBeInstanceOf(AuthError);
  });
});
