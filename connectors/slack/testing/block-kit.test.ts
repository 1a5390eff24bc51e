import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogLevel, WebClient, type Logger } from '@slack/web-api';
import { blockKitProblems, viewProblems } from './block-kit.js';
import { SlackEmulator, type EmulatedWorkspace } from './emulator.js';

type Json = Record<string, unknown>;
const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const button = (over: Json = {}) => ({ type: 'button', text: plain('Go'), action_id: 'go', ...over });
const opt = (i: number, text = `Option ${i}`) => ({ text: plain(text), value: String(i) });
const select = (over: Json = {}) => ({ type: 'static_select', action_id: 'pick', placeholder: plain('Pick'), options: [opt(1), opt(2)], ...over });
const actions = (...elements: Json[]) => ({ type: 'actions', elements });
const section = (over: Json = {}) => ({ type: 'section', text: mrkdwn('Hello'), ...over });
const input = (element: Json = { type: 'plain_text_input', action_id: 'text' }) => ({ type: 'input', block_id: 'in', label: plain('Message'), element });
const modal = (over: Json = {}) => ({ type: 'modal', title: plain('Reply'), submit: plain('Send'), close: plain('Cancel'), blocks: [input()], ...over });
const x = (n: number) => 'x'.repeat(n);

/** Each rule: a payload Slack accepts, one it refuses, and where Slack points. */
const messageRules: { rule: string; valid: Json[]; invalid: Json[]; at: string }[] = [
  { rule: 'button text is plain_text', valid: [actions(button())], invalid: [actions(button({ text: mrkdwn('*Go*') }))], at: '/blocks/0/elements/0/text/type' },
  { rule: 'button text at most 75 characters', valid: [actions(button({ text: plain(x(75)) }))], invalid: [actions(button({ text: plain(x(76)) }))], at: '/blocks/0/elements/0/text/text' },
  { rule: 'button text not empty', valid: [actions(button({ text: plain('a') }))], invalid: [actions(button({ text: plain('') }))], at: '/blocks/0/elements/0/text/text' },
  { rule: 'button value at most 2000', valid: [actions(button({ value: x(2000) }))], invalid: [actions(button({ value: x(2001) }))], at: '/blocks/0/elements/0/value' },
  { rule: 'button url at most 3000', valid: [actions(button({ url: `https://a.example/${x(2900)}` }))], invalid: [actions(button({ url: `https://a.example/${x(3000)}` }))], at: '/blocks/0/elements/0/url' },
  { rule: 'button style primary or danger', valid: [actions(button({ style: 'danger' }))], invalid: [actions(button({ style: 'green' }))], at: '/blocks/0/elements/0/style' },
  { rule: 'action_id at most 255', valid: [actions(button({ action_id: x(255) }))], invalid: [actions(button({ action_id: x(256) }))], at: '/blocks/0/elements/0/action_id' },
  { rule: 'action_id unique within a block', valid: [actions(button({ action_id: 'a' }), button({ action_id: 'b' })), actions(button({ action_id: 'a' }))], invalid: [actions(button({ action_id: 'a' }), button({ action_id: 'a' }))], at: '/blocks/0/elements/1/action_id' },
  { rule: 'actions at most 25 elements', valid: [actions(...Array.from({ length: 25 }, (_, i) => button({ action_id: `b${i}` })))], invalid: [actions(...Array.from({ length: 26 }, (_, i) => button({ action_id: `b${i}` })))], at: '/blocks/0/elements' },
  { rule: 'actions at least one element', valid: [actions(button())], invalid: [actions()], at: '/blocks/0/elements' },
  { rule: 'actions take interactive elements only', valid: [actions(select())], invalid: [actions({ type: 'plain_text_input', action_id: 't' })], at: '/blocks/0/elements/0/type' },
  { rule: 'static_select at most 100 options', valid: [actions(select({ options: Array.from({ length: 100 }, (_, i) => opt(i)) }))], invalid: [actions(select({ options: Array.from({ length: 101 }, (_, i) => opt(i)) }))], at: '/blocks/0/elements/0/options' },
  { rule: 'option text at most 75', valid: [actions(select({ options: [opt(1, x(75))] }))], invalid: [actions(select({ options: [opt(1, x(76))] }))], at: '/blocks/0/elements/0/options/0/text/text' },
  { rule: 'select option text is plain_text', valid: [actions(select())], invalid: [actions(select({ options: [{ text: mrkdwn('*a*'), value: '1' }] }))], at: '/blocks/0/elements/0/options/0/text/type' },
  { rule: 'option value at most 150', valid: [actions(select({ options: [{ text: plain('a'), value: x(150) }] }))], invalid: [actions(select({ options: [{ text: plain('a'), value: x(151) }] }))], at: '/blocks/0/elements/0/options/0/value' },
  { rule: 'static_select has options or option_groups, not both', valid: [actions(select({ options: undefined, option_groups: [{ label: plain('G'), options: [opt(1)] }] }))], invalid: [actions(select({ option_groups: [{ label: plain('G'), options: [opt(1)] }] }))], at: '/blocks/0/elements/0' },
  { rule: 'placeholder at most 150 and plain_text', valid: [actions(select({ placeholder: plain(x(150)) }))], invalid: [actions(select({ placeholder: plain(x(151)) }))], at: '/blocks/0/elements/0/placeholder/text' },
  { rule: 'overflow 1 to 5 options', valid: [actions({ type: 'overflow', action_id: 'o', options: [1, 2, 3, 4, 5].map((i) => opt(i)) })], invalid: [actions({ type: 'overflow', action_id: 'o', options: [1, 2, 3, 4, 5, 6].map((i) => opt(i)) })], at: '/blocks/0/elements/0/options' },
  { rule: 'checkboxes at most 10 options, mrkdwn allowed', valid: [actions({ type: 'checkboxes', action_id: 'c', options: [{ text: mrkdwn('*a*'), value: '1' }] })], invalid: [actions({ type: 'checkboxes', action_id: 'c', options: Array.from({ length: 11 }, (_, i) => opt(i)) })], at: '/blocks/0/elements/0/options' },
  { rule: 'confirm dialog texts within limits', valid: [actions(button({ confirm: { title: plain('Sure?'), text: mrkdwn('Really'), confirm: plain('Yes'), deny: plain('No') } }))], invalid: [actions(button({ confirm: { title: plain('Sure?'), text: mrkdwn('Really'), confirm: plain(x(31)), deny: plain('No') } }))], at: '/blocks/0/elements/0/confirm/confirm/text' },
  { rule: 'section text at most 3000', valid: [section({ text: mrkdwn(x(3000)) })], invalid: [section({ text: mrkdwn(x(3001)) })], at: '/blocks/0/text/text' },
  { rule: 'section text not empty', valid: [section({ text: plain(' ') })], invalid: [section({ text: mrkdwn('') })], at: '/blocks/0/text/text' },
  { rule: 'section needs text or fields', valid: [{ type: 'section', fields: [mrkdwn('a')] }], invalid: [{ type: 'section', accessory: button() }], at: '/blocks/0' },
  { rule: 'section fields at most 10', valid: [{ type: 'section', fields: Array.from({ length: 10 }, () => mrkdwn('a')) }], invalid: [{ type: 'section', fields: Array.from({ length: 11 }, () => mrkdwn('a')) }], at: '/blocks/0/fields' },
  { rule: 'section field at most 2000', valid: [{ type: 'section', fields: [plain(x(2000))] }], invalid: [{ type: 'section', fields: [plain(x(2001))] }], at: '/blocks/0/fields/0/text' },
  { rule: 'section accessory of an allowed type', valid: [section({ accessory: button() })], invalid: [section({ accessory: { type: 'plain_text_input', action_id: 't' } })], at: '/blocks/0/accessory/type' },
  { rule: 'text object: emoji only on plain_text, verbatim only on mrkdwn', valid: [section({ text: { type: 'mrkdwn', text: 'a', verbatim: true } }), section({ text: { type: 'plain_text', text: 'a', emoji: false } })], invalid: [section({ text: { type: 'mrkdwn', text: 'a', emoji: true } })], at: '/blocks/0/text' },
  { rule: 'text object type plain_text or mrkdwn', valid: [section()], invalid: [section({ text: { type: 'markdown', text: 'a' } })], at: '/blocks/0/text/type' },
  { rule: 'header plain_text at most 150', valid: [{ type: 'header', text: plain(x(150)) }], invalid: [{ type: 'header', text: plain(x(151)) }], at: '/blocks/0/text/text' },
  { rule: 'header is plain_text', valid: [{ type: 'header', text: plain('Title') }], invalid: [{ type: 'header', text: mrkdwn('*Title*') }], at: '/blocks/0/text/type' },
  { rule: 'context 1 to 10 elements', valid: [{ type: 'context', elements: Array.from({ length: 10 }, () => mrkdwn('a')) }], invalid: [{ type: 'context', elements: Array.from({ length: 11 }, () => mrkdwn('a')) }], at: '/blocks/0/elements' },
  { rule: 'context takes text and images only', valid: [{ type: 'context', elements: [{ type: 'image', image_url: 'https://a.example/i.png', alt_text: 'i' }, plain('a')] }], invalid: [{ type: 'context', elements: [button()] }], at: '/blocks/0/elements/0/type' },
  { rule: 'image block: image_url and alt_text', valid: [{ type: 'image', image_url: 'https://a.example/i.png', alt_text: 'A chart', title: plain('Chart') }], invalid: [{ type: 'image', image_url: 'https://a.example/i.png' }], at: '/blocks/0/alt_text' },
  { rule: 'image block: one of image_url or slack_file', valid: [{ type: 'image', slack_file: { id: 'F123' }, alt_text: 'A file' }], invalid: [{ type: 'image', alt_text: 'nothing' }], at: '/blocks/0' },
  { rule: 'image block title is plain_text', valid: [{ type: 'image', image_url: 'https://a.example/i.png', alt_text: 'a', title: plain('t') }], invalid: [{ type: 'image', image_url: 'https://a.example/i.png', alt_text: 'a', title: mrkdwn('t') }], at: '/blocks/0/title/type' },
  {
    rule: 'rich_text of sections, lists, quotes and preformatted',
    valid: [{ type: 'rich_text', elements: [
      { type: 'rich_text_section', elements: [{ type: 'text', text: 'Hi ', style: { bold: true } }, { type: 'user', user_id: 'U1' }, { type: 'link', url: 'https://a.example', text: 'docs' }, { type: 'emoji', name: 'wave' }] },
      { type: 'rich_text_list', style: 'bullet', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'one' }] }] },
      { type: 'rich_text_quote', elements: [{ type: 'text', text: 'quoted' }] },
      { type: 'rich_text_preformatted', elements: [{ type: 'text', text: 'code' }] },
    ] }],
    invalid: [{ type: 'rich_text', elements: [{ type: 'rich_text_list', style: 'stars', elements: [] }] }],
    at: '/blocks/0/elements/0/style',
  },
  { rule: 'markdown block at most 12000', valid: [{ type: 'markdown', text: `**bold** ${x(11_000)}` }], invalid: [{ type: 'markdown', text: x(12_001) }], at: '/blocks/0/text' },
  { rule: 'divider has nothing else', valid: [{ type: 'divider', block_id: 'd' }], invalid: [{ type: 'divider', text: plain('a') }], at: '/blocks/0' },
  { rule: 'unknown block types refused', valid: [{ type: 'divider' }], invalid: [{ type: 'banner', text: plain('a') }], at: '/blocks/0/type' },
  { rule: 'block_id at most 255', valid: [section({ block_id: x(255) })], invalid: [section({ block_id: x(256) })], at: '/blocks/0/block_id' },
  { rule: 'block_id unique', valid: [section({ block_id: 'a' }), section({ block_id: 'b' })], invalid: [section({ block_id: 'a' }), section({ block_id: 'a' })], at: '/blocks/1/block_id' },
  { rule: 'at most 50 blocks in a message', valid: Array.from({ length: 50 }, () => ({ type: 'divider' })), invalid: Array.from({ length: 51 }, () => ({ type: 'divider' })), at: '/blocks' },
  { rule: 'input label plain_text at most 2000', valid: [input()], invalid: [{ ...input(), label: plain(x(2001)) }], at: '/blocks/0/label/text' },
  { rule: 'plain_text_input max_length 1 to 3000', valid: [input({ type: 'plain_text_input', action_id: 't', max_length: 3000 })], invalid: [input({ type: 'plain_text_input', action_id: 't', max_length: 5000 })], at: '/blocks/0/element/max_length' },
  { rule: 'plain_text_input min_length at most max_length', valid: [input({ type: 'plain_text_input', action_id: 't', min_length: 1, max_length: 10 })], invalid: [input({ type: 'plain_text_input', action_id: 't', min_length: 20, max_length: 10 })], at: '/blocks/0/element' },
  { rule: 'input takes input elements only', valid: [input({ type: 'static_select', action_id: 's', options: [opt(1)] })], invalid: [input(button())], at: '/blocks/0/element/type' },
  { rule: 'unknown properties refused', valid: [actions(button())], invalid: [actions(button({ colour: 'red' }))], at: '/blocks/0/elements/0' },
];

describe('Block Kit rules of a message', () => {
  for (const r of messageRules)
    it(r.rule, () => {
      expect(blockKitProblems(r.valid, 'message')).toEqual([]);
      const problems = blockKitProblems(r.invalid, 'message');
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.some((p) => p.endsWith(`[json-pointer:${r.at}]`)), problems.join('\n')).toBe(true);
    });

  it('the markdown blocks of one message share 12,000 characters', () => {
    expect(blockKitProblems([{ type: 'markdown', text: x(6000) }, { type: 'markdown', text: x(6000) }], 'message')).toEqual([]);
    expect(blockKitProblems([{ type: 'markdown', text: x(6000) }, { type: 'markdown', text: x(6001) }], 'message')).not.toEqual([]);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(blockKitProblems([actions(button({ text: plain('😀'.repeat(75)) }))], 'message')).toEqual([]);
  });

  it('a markdown block belongs in messages only', () => {
    expect(blockKitProblems([{ type: 'markdown', text: 'a' }], 'modal', '/view/blocks')).toEqual([expect.stringContaining('[json-pointer:/view/blocks/0/type]')]);
  });
});

describe('Block Kit rules of a view', () => {
  const viewRules: { rule: string; valid: Json; invalid: Json; at: string; type?: 'home' }[] = [
    { rule: 'modal title plain_text at most 24', valid: modal({ title: plain(x(24)) }), invalid: modal({ title: plain(x(25)) }), at: '/view/title/text' },
    { rule: 'modal title required', valid: modal(), invalid: modal({ title: undefined }), at: '/view/title' },
    { rule: 'modal submit at most 24', valid: modal({ submit: plain(x(24)) }), invalid: modal({ submit: plain(x(25)) }), at: '/view/submit/text' },
    { rule: 'modal close at most 24', valid: modal({ close: plain(x(24)) }), invalid: modal({ close: plain(x(25)) }), at: '/view/close/text' },
    { rule: 'modal submit is plain_text', valid: modal(), invalid: modal({ submit: mrkdwn('Send') }), at: '/view/submit/type' },
    { rule: 'a modal with an input block needs submit', valid: modal({ submit: undefined, blocks: [section()] }), invalid: modal({ submit: undefined }), at: '/view/submit' },
    { rule: 'modal at most 100 blocks', valid: modal({ blocks: Array.from({ length: 100 }, () => ({ type: 'divider' })) }), invalid: modal({ blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) }), at: '/view/blocks' },
    { rule: 'private_metadata at most 3000', valid: modal({ private_metadata: x(3000) }), invalid: modal({ private_metadata: x(3001) }), at: '/view/private_metadata' },
    { rule: 'callback_id at most 255', valid: modal({ callback_id: x(255) }), invalid: modal({ callback_id: x(256) }), at: '/view/callback_id' },
    { rule: 'blocks inside a view are checked', valid: modal(), invalid: modal({ blocks: [input({ type: 'plain_text_input', action_id: 't', max_length: 5000 })] }), at: '/view/blocks/0/element/max_length' },
    { rule: 'home tab at most 100 blocks, no title', type: 'home', valid: { type: 'home', blocks: [section()] }, invalid: { type: 'home', title: plain('Home'), blocks: [section()] }, at: '/view' },
  ];
  for (const r of viewRules)
    it(r.rule, () => {
      const type = r.type ?? 'modal';
      expect(viewProblems(r.valid, type)).toEqual([]);
      const problems = viewProblems(r.invalid, type);
      expect(problems.some((p) => p.endsWith(`[json-pointer:${r.at}]`)), problems.join('\n')).toBe(true);
    });
  it('a view of the wrong type', () => {
    expect(viewProblems({ type: 'home', blocks: [] }, 'modal')).toEqual(['must be modal [json-pointer:/view/type]']);
  });
});

describe('the emulator answers like Slack', () => {
  let emulator: SlackEmulator;
  let ws: EmulatedWorkspace;
  let client: WebClient;
  beforeAll(async () => {
    emulator = await SlackEmulator.start();
    ws = emulator.addWorkspace({
      teamId: 'T0BK',
      users: [{ id: 'UIN', name: 'in' }, { id: 'UOUT', name: 'out' }],
      channels: [{ id: 'C0BK', name: 'blocks', isMember: true, members: ['UIN'] }],
    });
    const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => LogLevel.ERROR, setName() {} };
    client = new WebClient(ws.botToken, { slackApiUrl: emulator.apiUrl, retryConfig: { retries: 0 }, logger: quiet });
  });
  afterAll(() => emulator?.close());
  const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('Slack would refuse this'); }, (e: { data?: { error?: string; response_metadata?: { messages?: string[] } } }) => e.data);

  it('chat.postMessage refuses mrkdwn button text with invalid_blocks and the reason', async () => {
    const data = await refusal(client.chat.postMessage({ channel: 'C0BK', text: 'x', blocks: [actions(button({ text: mrkdwn('*Go*') }))] as never }));
    expect(data?.error).toBe('invalid_blocks');
    expect(data?.response_metadata?.messages).toEqual([expect.stringMatching(/^\[ERROR\] .*\[json-pointer:\/blocks\/0\/elements\/0\/text\/type\]$/)]);
  });

  it('chat.update, chat.postEphemeral refuse what Slack refuses', async () => {
    const posted = await client.chat.postMessage({ channel: 'C0BK', text: 'x', blocks: [section()] as never });
    expect((await refusal(client.chat.update({ channel: 'C0BK', ts: posted.ts!, text: 'x', blocks: [actions(select({ options: Array.from({ length: 101 }, (_, i) => opt(i)) }))] as never })))?.error).toBe('invalid_blocks');
    expect((await refusal(client.chat.postEphemeral({ channel: 'C0BK', user: 'UIN', text: 'x', blocks: [actions(button({ action_id: 'a' }), button({ action_id: 'a' }))] as never })))?.error).toBe('invalid_blocks');
  });

  it('accepts image and rich_text blocks', async () => {
    const blocks = [
      { type: 'image', image_url: 'https://a.example/chart.png', alt_text: 'chart' },
      { type: 'rich_text', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'Hello ' }, { type: 'user', user_id: 'UIN' }] }] },
    ];
    const res = await client.chat.postMessage({ channel: 'C0BK', text: 'rich', blocks: blocks as never });
    expect(res.ok).toBe(true);
  });

  it('an ephemeral message to someone outside the channel is user_not_in_channel', async () => {
    await expect(client.chat.postEphemeral({ channel: 'C0BK', user: 'UIN', text: 'hi' })).resolves.toMatchObject({ ok: true });
    expect((await refusal(client.chat.postEphemeral({ channel: 'C0BK', user: 'UOUT', text: 'hi' })))?.error).toBe('user_not_in_channel');
  });

  it('views.open, views.update, views.push and views.publish refuse invalid views with invalid_arguments', async () => {
    const noSubmit = await refusal(client.views.open({ trigger_id: emulator.issueTrigger('T0BK', 'UIN'), view: modal({ submit: undefined }) as never }));
    expect(noSubmit?.error).toBe('invalid_arguments');
    expect(noSubmit?.response_metadata?.messages).toEqual(['[ERROR] submit is required when an input block is within the blocks array [json-pointer:/view/submit]']);
    const opened = await client.views.open({ trigger_id: emulator.issueTrigger('T0BK', 'UIN'), view: modal() as never });
    expect((await refusal(client.views.update({ view_id: opened.view!.id!, view: modal({ submit: plain(x(25)) }) as never })))?.error).toBe('invalid_arguments');
    expect((await refusal(client.views.push({ trigger_id: emulator.issueTrigger('T0BK', 'UIN'), view: modal({ blocks: [input({ type: 'plain_text_input', action_id: 't', max_length: 5000 })] }) as never })))?.error).toBe('invalid_arguments');
    await expect(client.views.push({ trigger_id: emulator.issueTrigger('T0BK', 'UIN'), view: modal() as never })).resolves.toMatchObject({ ok: true });
    expect((await refusal(client.views.publish({ user_id: 'UIN', view: { type: 'home', blocks: [{ type: 'header', text: mrkdwn('*Home*') }] } as never })))?.error).toBe('invalid_arguments');
  });
});
