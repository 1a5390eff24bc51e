import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../../../hub/testing/harness.js';
import { localAi } from '../../../hub/install-ai.js';
import { withAccount } from '../../../storage/session.js';
import { saveArticles } from '../../kb/save.js';

// Every way out of the process is replaced by a recorder that refuses: the local provider must not need any.
const attempts: string[] = [];
const refuse = (what: string) => (...args: unknown[]) => {
  attempts.push(`${what} ${String(args[0]).slice(0, 80)}`);
  throw new Error(`network is unreachable (${what})`);
};

let t: TestHub;
let acct: TestAccount;

beforeAll(async () => {
  // The embedded store (PGlite, in-process WASM) needs no socket, so everything below runs with the network cut.
  t = await startTestHub({ embedded: true, ai: true, jobs: false });
  acct = await createTestAccount(t);
  globalThis.fetch = refuse('fetch') as typeof fetch;
  net.Socket.prototype.connect = refuse('net.connect') as typeof net.Socket.prototype.connect;
  http.request = refuse('http.request') as typeof http.request;
  https.request = refuse('https.request') as typeof https.request;
}, 120_000);
afterAll(() => t?.close());

describe('local provider offline', () => {
  it('classifies, embeds and drafts with the network unreachable', async () => {
    const ai = localAi(t.hub);
    const vectors = await ai.embedder.embed(['How do I reset my password?']);
    expect(vectors[0]).toHaveLength(512);
    await saveArticles(t.hub.db, acct.accountId, [{ title: 'Resetting your password', body: 'Choose "Forgot password" on the login page; the emailed link is valid for one hour.' }], ai.embedder);
    const conversationId = (await t.hub.db.query<{ id: string }>(`SELECT gen_random_uuid() AS id`)).rows[0]!.id;
    const analysis = await ai.analyze({
      accountId: acct.accountId,
      conversation: { id: conversationId, subject: null, channelKind: 'webchat', language: null },
      messages: [{ direction: 'inbound', authorKind: 'contact', text: 'I forgot my password and cannot log in', sentAt: new Date().toISOString() }],
    });
    expect(analysis.provider).toBe('local');
    expect(analysis.classification).toMatchObject({ category: 'account', language: 'en' });
    expect(analysis.draft?.extractive).toBe(true);
    expect(analysis.draft?.citations[0]?.title).toBe('Resetting your password');
    expect(attempts).toEqual([]);
    // The first analysis loads every model in the AI thread: minutes on a machine other tests share.
  }, 240_000);
});
