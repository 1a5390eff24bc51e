import { listenMailbox } from '../../connectors/email/listen.ts';
import { ImapFlow } from 'imapflow';
const u = `dbg-${Date.now()}@example.test`;
const ac = new AbortController();
const store = new Map<string, unknown>();
const t0 = Date.now();
const p = listenMailbox({ id: 'ch', accountId: 'a', kind: 'email', externalKey: u, teamId: null, config: { address: u, imap: { host: '127.0.0.1', port: 31143, secure: false, pollMs: 3000 } }, secrets: { imapPassword: 'hummdesk' } },
  async (ev) => { console.log(Date.now() - t0, 'emit', ev.map((e) => e.type === 'message' ? e.message.externalId : e.type)); },
  { get: async (k) => store.get(k), set: async (k, v) => { store.set(k, v); console.log('cp', v); } }, ac.signal, { onError: (e, n) => console.log('error', n, e) });
await new Promise((r) => setTimeout(r, 1500));
const c = new ImapFlow({ host: '127.0.0.1', port: 31143, secure: false, auth: { user: u, pass: 'hummdesk' }, logger: false });
await c.connect(); await c.append('INBOX', 'From: a@b.c\r\nSubject: x\r\nMessage-ID: <dbg1@x>\r\n\r\nhello\r\n'); await c.logout();
console.log(Date.now() - t0, 'appended');
setTimeout(() => ac.abort(), 8000);
await p; console.log('done');
