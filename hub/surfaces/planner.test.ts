import { describe, expect, it } from 'vitest';
import type { MessageRow } from '../../storage/repositories/messages.js';
import type { Intent } from './intents.js';
import { postIntentKey, rootIntentKey, threadPosts, unplanned, walkThread, type MadePost } from './planner.js';

/** A third surface is a renderer: its steps are whatever it renders a group or a made post to (here, text). */
type Step = { post: string; key: string } | { update: string; remoteId: string };

let n = 0;
function msg(over: Partial<MessageRow> = {}): MessageRow {
  n += 1;
  return {
    id: `m${n}`, conversationId: 'c', channelId: 'ch', direction: 'inbound', authorKind: 'contact', authorUserId: null, authorName: 'Casey',
    sender: { identityId: 'i1', contactId: 'k1', name: 'Casey', address: null }, notice: null, authentication: null, isPrivate: false,
    text: `text ${n}`, html: null, externalId: `e${n}`, inReplyTo: null, deliveryStatus: null, deliveryError: null, autoReply: false,
    sentAt: new Date(0).toISOString(), createdAt: new Date(0).toISOString(), metadata: {}, attachments: [], ...over,
  };
}
const intent = (key: string, over: Partial<Intent>): Intent => ({ id: key, key, target: {}, detail: {}, state: 'pending', remoteId: null, startedAt: null, ...over });

function walk(messages: MessageRow[], intents: Intent[], before = new Map<string, MadePost>()): Step[] {
  return walkThread<Step>({
    messages,
    threadRef: 'T',
    posts: threadPosts(intents, 'T', before),
    mirrored: (m) => m.notice !== 'hidden',
    post: (key, group) => [{ key, post: group.map((m) => m.text).join(' + ') }],
    made: (m, p) => (p.state !== 'root' && p.state !== 'grouped' && p.remoteId && p.state !== m.text ? [{ update: m.text, remoteId: p.remoteId }] : []),
  });
}

describe('the shared thread planner', () => {
  it('coalesces consecutive customer messages; a reply or a file ends a group; the root\'s message is skipped', () => {
    const first = msg();
    const a = msg();
    const b = msg();
    const reply = msg({ direction: 'outbound', authorKind: 'agent', sender: null });
    const c = msg();
    const file = msg({ attachments: [{ id: 'f', kind: 'file', name: 'x.pdf', mimeType: null, size: 1, contentId: null, fetchState: 'stored', fetchError: null }] });
    const root = new Map<string, MadePost>([[first.id, { remoteId: 'R', state: 'root', intentKey: rootIntentKey({ installationId: 'i', channel: 'x' }, 0) }]]);
    expect(walk([first, a, b, reply, c, file], [], root)).toEqual([
      { key: postIntentKey('T', a.id), post: `${a.text} + ${b.text}` },
      { key: postIntentKey('T', reply.id), post: reply.text },
      { key: postIntentKey('T', c.id), post: c.text },
      { key: postIntentKey('T', file.id), post: file.text },
    ]);
  });

  it('a group an earlier attempt planned goes out as planned, whatever came since; made posts are updated when what they show changed', () => {
    const a = msg();
    const b = msg();
    const late = msg();
    const made = msg();
    const intents = [
      intent(postIntentKey('T', made.id), { state: 'done', remoteId: 'P1', detail: { group: [made.id], shown: 'old text' } }),
      intent(postIntentKey('T', a.id), { startedAt: new Date().toISOString(), detail: { group: [a.id, b.id] } }),
    ];
    expect(walk([made, a, b, late], intents)).toEqual([
      { update: made.text, remoteId: 'P1' },
      { key: postIntentKey('T', a.id), post: `${a.text} + ${b.text}` },
      { key: postIntentKey('T', late.id), post: late.text },
    ]);
    // Only what is not recorded yet is planned.
    const planned = unplanned(new Map(intents.map((i) => [i.key, i])), [{ key: postIntentKey('T', a.id), detail: {} }, { key: postIntentKey('T', late.id), detail: { shown: 's' } }], { rootId: 'T' });
    expect(planned).toEqual([{ key: postIntentKey('T', late.id), target: { rootId: 'T' }, detail: { shown: 's' } }]);
  });
});
