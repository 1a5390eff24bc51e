import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metaCases } from '../connectors/meta/cases.js';
import { conformance, metaEvents, protocolDir } from './cli-meta.js';

const corpus = protocolDir();
const present = existsSync(join(corpus, 'pywa_whatsapp_updates'));
if (!present) console.warn(`SKIPPED: Meta conformance sets not found at ${corpus} (set HUMMDESK_CORPUS_DIR)`);

describe('hummdesk meta', () => {
  it.runIf(present)('conformance: every shared WhatsApp and Messenger payload gives its hand-checked expected output', async () => {
    const lines: string[] = [];
    const r = await conformance(corpus, false, (l) => lines.push(l));
    expect(lines.filter((l) => l.startsWith('FAIL') || l.startsWith('  '))).toEqual([]);
    expect(r.failed).toBe(0);
    expect(r.passed).toBeGreaterThanOrEqual(100);
    const messenger = Object.entries(r.actual).find(([file]) => file.endsWith('/messenger/conformance.expected.json'))![1];
    expect(messenger['vercel_chat_replay/dm/messenger.json#firstMessage']).toEqual([
      'message inbound m_FAKE_MSG_ID_001 from=200000000000001 thread=messenger:100000000000001:200000000000001 at=2026-03-08T19:27:04.000Z text="What is Vercel?"',
    ]);
    expect(messenger['botbuilder_dotnet/facebook_adapter/PayloadWithStandby.json']).toEqual(['error webhook_body_bom']);
    expect(messenger['botbuilder_dotnet/facebook_adapter/Activities.json']).toEqual(['error webhook_body_not_meta']);
    // Instagram messaging is in the set, and refused with its own code (not parsed as WhatsApp or Messenger).
    const instagram = Object.entries(messenger).filter(([id]) => id.startsWith('vercel_chat_replay/dm/instagram.json#'));
    expect(Object.fromEntries(instagram)).toEqual({
      'vercel_chat_replay/dm/instagram.json#accountId': ['error webhook_body_not_meta'],
      'vercel_chat_replay/dm/instagram.json#botName': ['error webhook_body_not_meta'],
      'vercel_chat_replay/dm/instagram.json#userId': ['error webhook_body_not_meta'],
      ...Object.fromEntries(['firstMessage', 'storyReply', 'reactionAdded', 'quickReply', 'echoMessage'].map((n) => [`vercel_chat_replay/dm/instagram.json#${n}`, ['error instagram_not_supported']])),
    });
  });

  it('an Instagram body is refused with instagram_not_supported', () => {
    expect(() => metaEvents({ object: 'instagram', entry: [{ id: '1784', messaging: [{ sender: { id: '2' }, recipient: { id: '1784' }, message: { mid: 'm', text: 'hi' } }] }] })).toThrow(
      expect.objectContaining({ code: 'instagram_not_supported' }),
    );
  });

  it('a file with a byte-order mark, one that is not JSON, and named members that are not bodies each get a clear error', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"object":"whatsapp_business_account","entry":[]}')]);
    expect(metaCases('bom.json', bom)).toEqual([{ id: 'bom.json', error: expect.objectContaining({ code: 'webhook_body_bom' }) }]);
    expect(metaCases('x.json', Buffer.from('{nope'))[0]!.error!.code).toBe('webhook_body_invalid');
    const named = metaCases('set.json', Buffer.from(JSON.stringify({ botName: 'x', one: { object: 'whatsapp_business_account', entry: [] } })));
    expect(named).toEqual([
      { id: 'set.json#botName', error: { code: 'webhook_body_not_meta', message: '"botName" is not a Meta webhook body (no "object" and "entry" list)' } },
      { id: 'set.json#one', body: { object: 'whatsapp_business_account', entry: [] } },
    ]);
  });

  it('a JSON object none of whose members is a body is one error, not one per field', () => {
    expect(metaCases('activity.json', Buffer.from(JSON.stringify({ type: 'message', text: 'hi', from: { id: '1' } })))).toEqual([
      { id: 'activity.json', error: expect.objectContaining({ code: 'webhook_body_not_meta' }) },
    ]);
  });

  it('parse: each Page\'s events carry its Page id as the channel', () => {
    const body = { object: 'page', entry: [{ id: '77', time: 1, messaging: [{ sender: { id: '5' }, recipient: { id: '77' }, timestamp: 1700000000000, message: { mid: 'm_1', text: 'hi' } }] }] };
    expect(metaEvents(body)).toEqual([expect.objectContaining({ type: 'message', message: expect.objectContaining({ channel: { kind: 'messenger', channelId: '77' }, threadKey: 'messenger:77:5', text: 'hi' }) })]);
  });

  it('parse: each number\'s events carry its phone_number_id as the channel', () => {
    const body = { object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { metadata: { phone_number_id: '42' }, contacts: [{ wa_id: '1', profile: { name: 'A' } }], messages: [{ from: '1', id: 'wamid.1', timestamp: '1700000000', type: 'text', text: { body: 'hi' } }] } }] }] };
    expect(metaEvents(body)).toEqual([expect.objectContaining({ type: 'message', message: expect.objectContaining({ channel: { kind: 'whatsapp', channelId: '42' }, threadKey: 'whatsapp:42:1', text: 'hi' }) })]);
  });
});
