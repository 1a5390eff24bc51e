import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { openConversation } from '../../hub/testing/test-channel.js';
import { withAccount } from '../session.js';
import { findInstallation } from './channels.js';
import { latestPublicMessages } from './messages.js';

describe('latestPublicMessages', () => {
  let t: TestHub;
  let acct: TestAccount;
  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
    acct = await createTestAccount(t);
  });
  afterAll(() => t?.close());

  it('reads the newest messages of a long conversation, oldest first, without internal notes', async () => {
    const channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'webchat', id: acct.channelId }))!;
    const conversationId = await openConversation(t.hub.ingest, channel);
    // 1,100 more, one a second; every tenth an internal note. The AI used to read the first 1,000.
    await withAccount(t.hub.db, acct.accountId, (tx) =>
      tx.query(
        `INSERT INTO messages (account_id, conversation_id, channel_id, direction, author_kind, text, is_private, sent_at)
         SELECT m.account_id, m.conversation_id, m.channel_id, m.direction, m.author_kind, 'message ' || i, i % 10 = 0, m.sent_at + i * interval '1 second'
         FROM messages m, generate_series(1, 1100) i WHERE m.conversation_id = $1`,
        [conversationId],
      ),
    );
    const latest = await withAccount(t.hub.db, acct.accountId, (tx) => latestPublicMessages(tx, conversationId, 20));
    const expected = Array.from({ length: 1100 }, (_, k) => k + 1).filter((i) => i % 10 !== 0).slice(-20).map((i) => `message ${i}`);
    expect(latest.map((m) => m.text)).toEqual(expected);
    expect(latest.every((m) => !m.isPrivate)).toBe(true);
  });
});
