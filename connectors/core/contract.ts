import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CHANNEL_KINDS, type ChannelInstallation, type Connector, type InboundEvent, type WebhookRequest } from './types.js';
import { VerificationError } from './errors.js';

/**
 * The shared connector contract. Every connector's test file calls it once with fixtures it signs
 * itself (never by switching verification off):
 *
 * ```ts
 * connectorContract('whatsapp', () => ({ connector, channel, validRequest, tamperedRequest, staleRequest, statusRequest, echoRequest }));
 * ```
 *
 * Each factory must return a fresh, equal request on every call (fixed bytes, fixed `now` clock),
 * because determinism is checked by parsing two of them. `setup` is also called once while the
 * tests are collected, to see which optional fixtures exist, so keep it cheap and pure.
 */
export interface ContractSetup {
  connector: Connector;
  /** The installation the requests are addressed to, with the secrets they were signed with. */
  channel: ChannelInstallation;
  /** A correctly signed request carrying one inbound customer message. */
  validRequest(): WebhookRequest;
  /** The valid request with its signature or body altered: verification must refuse it. */
  tamperedRequest(): WebhookRequest;
  /** Correctly signed but outside the replay window; for platforms that sign a timestamp. */
  staleRequest?(): WebhookRequest;
  /** The platform echoing our own outbound message back; for platforms that echo. */
  echoRequest?(): WebhookRequest;
  /** A delivery receipt (sent, delivered, read, failed); for platforms that send receipts. */
  statusRequest?(): WebhookRequest;
  /**
   * `channel` (default): thread keys are `${kind}:${channel.id}:…`, one native thread per installation.
   * `kind`: thread keys are only `${kind}:…`, for a thread id that is global on its platform.
   */
  threadKeyScope?: 'channel' | 'kind';
}

const STATUSES = ['sent', 'delivered', 'read', 'failed'];

export function connectorContract(name: string, setup: () => ContractSetup): void {
  describe(`${name} connector contract`, () => {
    let s: ContractSetup;
    beforeEach(() => {
      s = setup();
    });

    const withChannel = (req: WebhookRequest): WebhookRequest => ({ channel: s.channel, ...req });
    const messagesOf = (events: InboundEvent[]) => events.flatMap((e) => (e.type === 'message' ? [e.message] : []));

    it('declares a known kind and sane capabilities', () => {
      expect(CHANNEL_KINDS).toContain(s.connector.kind);
      expect(s.channel.kind).toBe(s.connector.kind);
      expect(s.connector.capabilities.maxTextLength).toBeGreaterThan(0);
      expect(typeof s.connector.capabilities.idempotentSend).toBe('boolean');
    });

    it('accepts a correctly signed request', async () => {
      await expect(s.connector.verify(withChannel(s.validRequest()))).resolves.toBeUndefined();
    });

    it('rejects a bad signature with a VerificationError', async () => {
      const err = await s.connector.verify(withChannel(s.tamperedRequest())).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(VerificationError);
      expect((err as VerificationError).code).toMatch(/^[a-z_]+$/);
    });

    it.runIf(!!setup().staleRequest)('rejects a stale timestamp with a VerificationError', async () => {
      await expect(s.connector.verify(withChannel(s.staleRequest!()))).rejects.toBeInstanceOf(VerificationError);
    });

    it('parses deterministically: the same request gives deep-equal events', () => {
      const first = s.connector.parse(withChannel(s.validRequest()));
      const second = s.connector.parse(withChannel(s.validRequest()));
      expect(Array.isArray(first)).toBe(true);
      expect(second).toEqual(first);
    });

    it('parses the valid request into an inbound message of this channel', () => {
      const messages = messagesOf(s.connector.parse(withChannel(s.validRequest())));
      expect(messages.length).toBeGreaterThan(0);
      for (const m of messages) {
        expect(m.channel).toEqual({ kind: s.connector.kind, channelId: s.channel.id });
        expect(m.direction).toBe('inbound');
        expect(m.externalId).toEqual(expect.any(String));
        expect(m.externalId.length).toBeGreaterThan(0);
        expect(m.sender.externalId.length).toBeGreaterThan(0);
        expect(Number.isNaN(Date.parse(m.sentAt))).toBe(false);
        expect(Array.isArray(m.attachments)).toBe(true);
      }
    });

    it('prefixes thread keys with the kind (and the channel id)', () => {
      const prefix = (s.threadKeyScope ?? 'channel') === 'channel' ? `${s.connector.kind}:${s.channel.id}:` : `${s.connector.kind}:`;
      const messages = messagesOf(s.connector.parse(withChannel(s.validRequest())));
      for (const m of messages) {
        expect(m.threadKey.startsWith(prefix)).toBe(true);
        expect(m.threadKey.length).toBeGreaterThan(prefix.length);
      }
    });

    it.runIf(!!setup().statusRequest)('maps delivery receipts to status events of this channel', () => {
      const statuses = s.connector.parse(withChannel(s.statusRequest!())).filter((e) => e.type === 'status');
      expect(statuses.length).toBeGreaterThan(0);
      for (const e of statuses) {
        expect(e.channelId).toBe(s.channel.id);
        expect(STATUSES).toContain(e.status);
        expect(e.externalId.length).toBeGreaterThan(0);
      }
    });

    it.runIf(!!setup().echoRequest)('flags echoes of our own sends as outbound', () => {
      const events = s.connector.parse(withChannel(s.echoRequest!()));
      const messages = messagesOf(events);
      // An echo is either recognised as ours (outbound) or dropped; never a new inbound message.
      expect(events.length).toBeGreaterThan(0);
      for (const m of messages) expect(m.direction).toBe('outbound');
    });

    describe('purity', () => {
      let connect: ReturnType<typeof vi.spyOn>;
      let fetchSpy: ReturnType<typeof vi.spyOn>;
      beforeEach(() => {
        // Every database, Redis and HTTP client ends in a socket connect or fetch: either fails the test.
        connect = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(() => {
          throw new Error('a connector touched the network during verify/parse');
        });
        fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(() => {
          throw new Error('a connector called fetch during verify/parse');
        });
      });
      afterEach(() => {
        connect.mockRestore();
        fetchSpy.mockRestore();
      });

      it('verifies and parses without network or database, and leaves the request untouched', async () => {
        const req = withChannel(s.validRequest());
        const bytes = Buffer.from(req.rawBody);
        await s.connector.verify(req);
        const events = s.connector.parse(req);
        expect(events).not.toBeInstanceOf(Promise);
        expect(req.rawBody.equals(bytes)).toBe(true);
        expect(connect).not.toHaveBeenCalled();
        expect(fetchSpy).not.toHaveBeenCalled();
      });
    });
  });
}
