import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { BotConnectorEmulator, type EmulatedTeam } from './testing/emulator.js';
import { TeamsDriver } from './testing/driver.js';
import { teamsConfigFromEnv, type TeamsAppConfig } from './config.js';
import { createCloudAdapter } from './botbuilder.js';

/**
 * The real botbuilder CloudAdapter and MSAL against the emulator: botbuilder's own JWT validation accepts
 * what the driver signs, and its ConnectorClient with an MSAL client-credentials token creates a channel
 * thread, replies, updates, deletes and reads the team's channels and members. MSAL insists on https
 * authorities, so a network client routes login.microsoftonline.com to the emulator.
 */

let emulator: BotConnectorEmulator;
let driver: TeamsDriver;
let team: EmulatedTeam;
let config: TeamsAppConfig;
const TENANT = '7e4a0000-0000-4000-8000-0000000000aa';
const msalRequests: string[] = [];

function toEmulator(url: string): string {
  return url.replace('https://login.microsoftonline.com', emulator.url);
}

async function send<T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
  msalRequests.push(`${method} ${new URL(url).pathname}`);
  const res = await fetch(toEmulator(url), { method, headers: options?.headers, body: options?.body });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => (headers[name] = value));
  return { headers, body: (await res.json()) as T, status: res.status };
}

const networkClient: INetworkModule = {
  sendGetRequestAsync: (url, options) => send('GET', url, options),
  sendPostRequestAsync: (url, options) => send('POST', url, options),
};

beforeAll(async () => {
  emulator = await BotConnectorEmulator.start({ latencyMs: [0, 0], tenantId: TENANT });
  driver = new TeamsDriver(emulator);
  team = emulator.addTeam({ name: 'Support', tenantId: TENANT });
  config = { ...teamsConfigFromEnv(emulator.hubEnv()), authority: 'https://login.microsoftonline.com/{tenant}' };
});
afterAll(() => emulator.close());

/** The Express-like request and response botbuilder's process() reads and writes. */
function exchange(signed: { body: Buffer; headers: Record<string, string> }) {
  const out: { status?: number; body?: unknown; ended: Promise<void> } = { ended: Promise.resolve() };
  let done!: () => void;
  out.ended = new Promise((r) => (done = r));
  const req = { method: 'POST', headers: signed.headers, body: JSON.parse(signed.body.toString('utf8')) as unknown };
  const res = {
    socket: {},
    header: () => undefined,
    status(code: number) {
      out.status = code;
    },
    send(body?: unknown) {
      out.body = body;
    },
    end() {
      done();
    },
  };
  return { req, res, out };
}

describe('botbuilder CloudAdapter + MSAL against the Bot Connector emulator', () => {
  it('accepts a driver-signed activity with botbuilder\'s own validation and replies in the thread with an MSAL token', { timeout: 60_000 }, async () => {
    const { adapter } = await createCloudAdapter(config, { networkClient });
    const root = emulator.postAsUser(team.id, 'Customer escalation');
    const signed = driver.sign(driver.message(team, team.id, 'can someone take this?', { rootId: root.id, mentionBot: true }));
    const { req, res, out } = exchange(signed);
    const seen: string[] = [];
    await adapter.process(req as never, res as never, async (ctx) => {
      seen.push(ctx.activity.text ?? '');
      await ctx.sendActivity('On it.');
    });
    await out.ended;
    expect(out.status).toBe(200);
    expect(seen).toEqual(['<at>HummDesk</at> can someone take this?']);
    expect(emulator.thread(team.id, root.id).map((a) => a.text)).toEqual(['Customer escalation', 'On it.']);
    expect(msalRequests.some((r) => r.endsWith('/oauth2/v2.0/token'))).toBe(true);
  });

  it('refuses a token signed by an unknown key (botbuilder answers it with an error status, never 200)', { timeout: 60_000 }, async () => {
    const { adapter } = await createCloudAdapter(config, { networkClient });
    const signed = driver.sign(driver.message(team, team.id, 'forged'), { unknownKey: true });
    const { req, res, out } = exchange(signed);
    let ran = false;
    await adapter.process(req as never, res as never, async () => {
      ran = true;
    });
    await out.ended;
    expect(ran).toBe(false);
    expect(out.status).toBeGreaterThanOrEqual(400);
  });

  it('creates a channel thread with an Adaptive Card, updates and deletes it, and reads channels and members', { timeout: 60_000 }, async () => {
    const { adapter, botbuilder } = await createCloudAdapter(config, { networkClient });
    const member = emulator.addMember(team.id, { name: 'Aino Agent', email: 'aino@example.com' });
    const card = botbuilder.CardFactory.adaptiveCard({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'New conversation' }] });
    let reference: Partial<import('botbuilder').ConversationReference> | undefined;
    await adapter.createConversationAsync(emulator.appId, 'msteams', emulator.serviceUrl, 'https://api.botframework.com', {
      isGroup: true, channelData: { channel: { id: team.id }, tenant: { id: TENANT } }, tenantId: TENANT,
      activity: botbuilder.MessageFactory.attachment(card) as never, bot: { id: emulator.botId, name: 'HummDesk' }, members: [],
    }, async (ctx) => {
      reference = botbuilder.TurnContext.getConversationReference(ctx.activity);
    });
    const rootId = reference!.conversation!.id.split(';messageid=')[1]!;
    expect(emulator.roots(team.id).map((a) => a.id)).toContain(rootId);

    let channels: { id?: string; name?: string }[] = [];
    let members: { aadObjectId?: string }[] = [];
    await adapter.continueConversationAsync(emulator.appId, reference!, async (ctx) => {
      const reply = await ctx.sendActivity('Customer: hello');
      const updated = botbuilder.MessageFactory.attachment(botbuilder.CardFactory.adaptiveCard({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Assigned' }] }));
      updated.id = rootId;
      await ctx.updateActivity(updated);
      await ctx.deleteActivity(reply!.id);
      ctx.activity.channelData = { team: { id: team.id }, tenant: { id: TENANT } };
      channels = await botbuilder.TeamsInfo.getTeamChannels(ctx, team.id);
      members = (await botbuilder.TeamsInfo.getPagedMembers(ctx)).members;
    });
    const thread = emulator.thread(team.id, rootId);
    expect(thread).toHaveLength(1);
    expect(thread[0]!.edits).toBe(1);
    expect(channels.map((c) => c.id)).toEqual([team.id]);
    expect(members.map((m) => m.aadObjectId)).toEqual([member.aadObjectId]);
  });
});

describe('certificate credentials through MSAL', () => {
  it('get a token with a certificate-signed client assertion', { timeout: 60_000 }, async (ctx) => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'hummdesk-teams-cert-'));
    try {
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=hummdesk-test'], { stdio: 'ignore' });
      } catch {
        ctx.skip();
      }
      writeFileSync(join(dir, 'bot.pem'), readFileSync(join(dir, 'key.pem'), 'utf8') + readFileSync(join(dir, 'cert.pem'), 'utf8'));
      const certConfig = teamsConfigFromEnv({ ...emulator.hubEnv(), HUMMDESK_TEAMS_APP_PASSWORD: '', HUMMDESK_TEAMS_CERTIFICATE_PATH: join(dir, 'bot.pem'), HUMMDESK_TEAMS_AUTHORITY: 'https://login.microsoftonline.com/{tenant}' });
      expect(certConfig.credential.kind).toBe('certificate');
      const { sdkTokenSource } = await import('./msal.js');
      const issued = emulator.tokensIssued;
      const token = await (await sdkTokenSource(certConfig, { networkClient })).token();
      expect(token.split('.')).toHaveLength(3);
      expect(emulator.tokensIssued).toBe(issued + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
