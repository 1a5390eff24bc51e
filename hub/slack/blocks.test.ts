import { describe, expect, it } from 'vitest';
import type { MessageRow } from '../../storage/repositories/messages.js';
import { messageReply } from './blocks.js';

const base: MessageRow = {
  id: '00000000-0000-0000-0000-000000000001', conversationId: '00000000-0000-0000-0000-000000000002', channelId: '00000000-0000-0000-0000-000000000003',
  direction: 'inbound', authorKind: 'contact', authorUserId: null, authorName: 'Jane Roe', sender: null, notice: null, authentication: null, isPrivate: false,
  text: 'Cancel the contract please.', html: null, externalId: 'x@evil.example', inReplyTo: null, deliveryStatus: null, deliveryError: null,
  autoReply: false, sentAt: '2026-01-01T00:00:00Z', createdAt: '2026-01-01T00:00:00Z', metadata: {}, attachments: [],
};
const textOf = (r: ReturnType<typeof messageReply>) => JSON.stringify(r?.body.blocks);

describe('Slack thread mirror of a message', () => {
  it('names the real sender of a customer message with their address', () => {
    const r = messageReply({ ...base, sender: { identityId: base.id, contactId: base.id, name: 'Jane Roe', address: 'mallory@evil.example' } }, 'email', 'https://hub/c/1', false);
    expect(r!.body.text).toBe('Jane Roe (mallory@evil.example): Cancel the contract please.');
    expect(textOf(r)).toContain('*Jane Roe* (mallory@evil.example) wrote');
  });

  it('warns when the mailbox’s server found From forged', () => {
    const r = messageReply({ ...base, authentication: 'fail' }, 'email', 'https://hub/c/1', false);
    expect(textOf(r)).toContain('From not verified');
    expect(textOf(messageReply({ ...base, authentication: 'pass' }, 'email', 'https://hub/c/1', false))).not.toContain('not verified');
  });

  it('shows "X joined this thread" as a notice, not as something the customer wrote', () => {
    const r = messageReply({ ...base, authorKind: 'system', isPrivate: true, notice: 'participant_joined', text: 'Jane Roe <mallory@evil.example> joined this thread', sender: { identityId: base.id, contactId: base.id, name: 'Jane Roe', address: 'mallory@evil.example' } }, 'email', 'https://hub/c/1', false);
    expect(r!.state).toBe('notice');
    expect(textOf(r)).toContain('joined this thread');
    expect(textOf(r)).not.toContain('wrote');
  });
});
