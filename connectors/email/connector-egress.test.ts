import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation, CheckpointStore } from '../core/types.js';
import { EgressError, EgressGuard } from '../core/egress.js';
import { EmailConnector } from './connector.js';

// The IMAP side of the egress guard: the listener and the channel check never open a connection the
// guard refused, and what a wrong port answers never comes back to the tenant.
let service: Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  // Stands in for an internal service on loopback that a tenant would like the hub to talk to.
  service = createServer((socket) => {
    connections++;
    socket.end('+OK internal-secret-banner ready\r\n');
  });
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  port = (service.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => service.close(() => r())));

const channel = (imap: Record<string, unknown>): ChannelInstallation => ({
  id: 'ch-egress', accountId: 'acc', kind: 'email', externalKey: 'support@example.com', teamId: null,
  config: { address: 'support@example.com', imap: { secure: false, ...imap } }, secrets: { imapPassword: 'pw' },
});
const checkpoints: CheckpointStore = { get: async () => undefined, set: async () => undefined };

describe('email connector and the egress guard', () => {
  it('the listener never connects to a host the guard refuses; it reports egress_forbidden and keeps trying', async () => {
    const errors: unknown[] = [];
    const controller = new AbortController();
    const connector = new EmailConnector({ egress: new EgressGuard(), backoff: () => 10, onError: (err) => (errors.push(err), errors.length >= 3 && controller.abort()) });
    const before = connections;
    await connector.listen(channel({ host: '127.0.0.1', port }), async () => undefined, checkpoints, controller.signal);
    expect(errors).toHaveLength(3);
    for (const e of errors) expect(e).toBeInstanceOf(EgressError);
    expect((errors[0] as EgressError).code).toBe('egress_forbidden');
    expect(connections).toBe(before);
  });

  it('the check answers a stable code and our words, never what the server said', async () => {
    const strict = await new EmailConnector({ egress: new EgressGuard() }).check(channel({ host: '127.0.0.1', port }));
    expect(strict).toMatchObject({ ok: false, code: 'egress_forbidden' });
    const allowed = await new EmailConnector({ egress: new EgressGuard({ allow: [`127.0.0.1:${port}`] }) }).check(channel({ host: '127.0.0.1', port }));
    expect(allowed).toEqual({ ok: false, code: 'mail_connect_failed', message: `mail_connect_failed: could not connect to the IMAP server 127.0.0.1:${port}` });
    expect(JSON.stringify(allowed)).not.toContain('internal-secret-banner');
    expect(await new EmailConnector().check(channel({ port: 993 }))).toMatchObject({ ok: false, code: 'email_host_required' });
  });
});
