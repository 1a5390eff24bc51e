import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchChromium } from '../../embeds/testing.js';
import { protocolCorpusDir } from '../../connectors/teams/conformance.js';
import { BotConnectorEmulator, type EmulatedMember, type EmulatedTeam } from '../../connectors/teams/testing/emulator.js';
import { TeamsDriver } from '../../connectors/teams/testing/driver.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';
import { seedConversation } from '../testing/seed.js';
import { withAccount } from '../../storage/session.js';
import { linkAgent } from '../surfaces/agents.js';
import { readCardModel } from '../surfaces/card-store.js';
import type { CardModel } from '../surfaces/card.js';
import { teamsConversationCard, teamsNoticeCard, type AdaptiveCard } from './card.js';
import { installTeams } from '../install-teams.js';
import type { Activity } from '../../connectors/teams/activity.js';

/**
 * Every state of the Teams conversation card, parsed, validated and rendered by the `adaptivecards`
 * renderer in real Chromium with Teams' own host configs: no parse warning, no validation event.
 * Screenshots go to test-artifacts/teams-card-*.png.
 */

const corpus = protocolCorpusDir();
const hostConfigDir = corpus ? join(corpus, 'adaptive_cards', 'HostConfig') : undefined;
const THEMES = ['light', 'dark'] as const;
const hostConfigs = hostConfigDir && THEMES.every((t) => existsSync(join(hostConfigDir, `microsoft-teams-${t}.json`)))
  ? Object.fromEntries(THEMES.map((t) => [t, JSON.parse(readFileSync(join(hostConfigDir, `microsoft-teams-${t}.json`), 'utf8'))]))
  : undefined;
if (!hostConfigs) console.warn('SKIPPED: Teams host configs not found in protocol/adaptive_cards/HostConfig (set HUMMDESK_CORPUS_DIR or put shared/data beside the repo)');

const require = createRequire(import.meta.url);
const acDist = join(require.resolve('adaptivecards/package.json'), '..', 'dist');

const base: CardModel = {
  conversationId: '00000000-0000-4000-8000-000000000002', ref: '00000000', url: 'https://hub.example/#/conversations/2', subject: 'Invoice #42 is wrong', status: 'open',
  priority: 'high', category: 'billing', sentiment: 'negative', language: 'en', confidence: 0.82, snoozedUntil: null, customer: 'Jane **Roe** [x](https://evil.example)',
  source: { kind: 'email', name: 'Support mailbox' }, firstLines: 'Hello,\nmy invoice #42 charges me twice. <at>Boss</at> _please_ fix.', assignee: null, assigneeId: null, threadReplies: 'notes',
};
const draft = { id: '00000000-0000-4000-8000-000000000009', text: 'Sorry about that! The double charge is refunded within 5 days.', extractive: true, citations: [{ title: 'Refunds', url: 'https://kb.example/refunds' }, { title: 'Billing FAQ' }] };
const huge = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(1500);

const STATES: Record<string, AdaptiveCard> = {
  new: teamsConversationCard(base),
  'with-draft': teamsConversationCard({ ...base, draft }, { userIds: ['29:a', '29:b'], assigneeUserId: '29:b' }),
  'assigned-own-view': teamsConversationCard({ ...base, draft, assignee: 'Aino Agent', assigneeId: 'u1' }, { viewer: { userId: 'u1' } }),
  'assigned-shared': teamsConversationCard({ ...base, assignee: 'Aino Agent', assigneeId: 'u1', status: 'pending' }),
  snoozed: teamsConversationCard({ ...base, status: 'snoozed', snoozedUntil: '2026-03-01T09:30:00.000Z' }),
  resolved: teamsConversationCard({ ...base, status: 'resolved', category: null, sentiment: null, language: null, confidence: null }),
  'replies-mode': teamsConversationCard({ ...base, threadReplies: 'replies', subject: null }),
  shortened: teamsConversationCard({ ...base, firstLines: huge, draft: { ...draft, text: huge } }),
  notice: teamsNoticeCard('Moved to the Billing team. Continue there.', { url: base.url, title: 'Open in HummDesk' }),
};

interface Rendered {
  events: { phase: string; event: string; message: string }[];
  text: string;
}

async function openRenderer(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 640, height: 900 } });
  await page.setContent(`<!doctype html><html><head><meta charset="utf-8"><style>${readFileSync(join(acDist, 'adaptivecards.css'), 'utf8')} body{margin:0;font-family:'Segoe UI',sans-serif} #root{width:560px;padding:8px}</style></head><body><div id="root"></div></body></html>`);
  await page.addScriptTag({ content: readFileSync(join(acDist, 'adaptivecards.min.js'), 'utf8') });
  await page.evaluate(() => {
    const AC = (window as unknown as { AdaptiveCards: any }).AdaptiveCards;
    (window as unknown as { renderCard: unknown }).renderCard = (payload: unknown, hostConfig: unknown) => {
      const card = new AC.AdaptiveCard();
      card.hostConfig = new AC.HostConfig(hostConfig);
      const ctx = new AC.SerializationContext();
      card.parse(payload, ctx);
      const events: { phase: string; event: string; message: string }[] = [];
      for (let i = 0; i < ctx.eventCount; i++) {
        const e = ctx.getEventAt(i);
        events.push({ phase: 'parse', event: AC.ValidationEvent[e.event], message: e.message });
      }
      for (const e of card.validateProperties().validationEvents) events.push({ phase: 'validation', event: AC.ValidationEvent[e.event], message: e.message });
      const root = document.getElementById('root')!;
      root.innerHTML = '';
      const el = card.render();
      root.appendChild(el);
      return { events, text: el.innerText };
    };
  });
  return page;
}

describe.skipIf(!hostConfigs)('Teams card in the adaptivecards renderer', { timeout: 120_000 }, () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchChromium();
    page = await openRenderer(browser);
  });
  afterAll(async () => {
    await browser?.close();
  });

  for (const theme of THEMES) {
    it.each(Object.keys(STATES))(`renders %s (${theme}) without parse warnings or validation events`, async (state) => {
      const r = (await page.evaluate(([p, h]) => (window as unknown as { renderCard: (p: unknown, h: unknown) => Rendered }).renderCard(p, h), [STATES[state], hostConfigs![theme]] as const)) as Rendered;
      expect(r.events).toEqual([]);
      // The customer's markdown shows as typed: nothing of it became a link or bold text.
      if (state !== 'notice') {
        expect(r.text).toContain('Jane **Roe** [x](https://evil.example)');
        expect(await page.locator('#root a[href*="evil.example"]').count()).toBe(0);
      }
      // A ShowCard opens with its input (Edit draft holds the draft).
      if (state === 'with-draft') {
        await page.getByRole('button', { name: 'Edit draft' }).click();
        await expect.poll(() => page.locator('#root textarea').first().inputValue()).toBe(draft.text);
      }
      await page.locator('#root').screenshot({ path: artifactPath(`teams-card-${state}-${theme}.png`) });
    });
  }
});

describe.skipIf(!hostConfigs)('Assign to me through the AdaptiveApplet', { timeout: 180_000 }, () => {
  let emulator: BotConnectorEmulator;
  let driver: TeamsDriver;
  let t: TestHub;
  let acct: TestAccount;
  let browser: Browser;
  let team: EmulatedTeam;
  let agent: EmulatedMember;

  const deliver = (a: Activity) => {
    const signed = driver.sign(a);
    return t.app.inject({ method: 'POST', url: '/webhooks/teams', headers: signed.headers, payload: signed.body });
  };

  beforeAll(async () => {
    emulator = await BotConnectorEmulator.start({ latencyMs: [0, 0] });
    driver = new TeamsDriver(emulator);
    t = await startTestHub({ env: emulator.hubEnv() });
    installTeams(t.hub);
    acct = await createTestAccount(t);
    team = emulator.addTeam({ name: 'Support' });
    agent = emulator.addMember(team.id, { name: 'Aino Agent', email: acct.users.agent.email });
    // The bot joins the team and an admin claims it with the code it posted: the team's General channel gets the cards.
    expect((await deliver(driver.installed(team, agent))).statusCode).toBe(200);
    const code = /([A-Z2-9]{4}-[A-Z2-9]{4})/.exec(emulator.roots(team.id).find((a) => a.fromBot && /code/.test(a.text ?? ''))!.text!)![1]!;
    const claimed = await t.app.inject({ method: 'POST', url: '/api/v1/msteams/installs', headers: { authorization: `Bearer ${acct.users.admin.token}` }, payload: { code } });
    expect(claimed.statusCode).toBe(201);
    await withAccount(t.hub.db, acct.accountId, (tx) => linkAgent(tx, { surface: 'teams', surfaceUserId: agent.aadObjectId, userId: acct.users.agent.id }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await emulator?.close();
  });

  it('posts a signed adaptiveCard/action invoke to POST /webhooks/teams, re-renders the answer, and the shared card is updated', async () => {
    const { conversationId } = await seedConversation(t, acct, { subject: 'Where is my parcel?' });
    const rootOf = () => emulator.roots(team.id).find((a) => a.fromBot && JSON.stringify(a.attachments ?? []).includes(conversationId));
    const root = await eventually(async () => rootOf(), 60_000);
    const edits = root.edits;
    const statuses: number[] = [];
    const page = await openRenderer(browser);
    // The applet's channel adapter hands the request to the test, which signs it as Bot Framework does.
    await page.exposeFunction('hdInvoke', async (verb: string, data: Record<string, unknown>) => {
      const res = await deliver(driver.invoke(team, team.id, root.id, root.id, verb, data, agent));
      statuses.push(res.statusCode);
      return res.json();
    });
    await page.evaluate(([payload, hostConfig]) => {
      const AC = (window as unknown as { AdaptiveCards: any }).AdaptiveCards;
      const invoke = (window as unknown as { hdInvoke: (verb: string, data: unknown) => Promise<{ type: string; value: unknown }> }).hdInvoke;
      class Adapter extends AC.ChannelAdapter {
        async sendRequestAsync(request: { action: { verb: string; data: unknown } }) {
          const answer = await invoke(request.action.verb, request.action.data);
          return new AC.SuccessResponse(request, JSON.stringify(answer.value));
        }
      }
      const applet = new AC.AdaptiveApplet();
      applet.hostConfig = new AC.HostConfig(hostConfig);
      applet.channelAdapter = new Adapter();
      applet.setCard(payload);
      const el = document.getElementById('root')!;
      el.innerHTML = '';
      el.appendChild(applet.renderedElement);
    }, [root.attachments![0]!.content, hostConfigs!.light] as const);
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await expect.poll(() => page.locator('#root').innerText()).toContain('Assigned to you');
    expect(statuses).toEqual([200]);
    expect(await page.getByRole('button', { name: 'Assign to me' }).count()).toBe(0);
    const after = await withAccount(t.hub.db, acct.accountId, (tx) => readCardModel(tx, conversationId, { url: () => '', threadReplies: 'notes' }));
    expect(after!.assigneeId).toBe(acct.users.agent.id);
    // Everyone else's card follows: the emulator records the update of the shared root card, naming the assignee.
    const updated = await eventually(async () => {
      const now = rootOf();
      return now && now.edits > edits && JSON.stringify(now.attachments).includes(after!.assignee!) ? now : undefined;
    }, 60_000);
    expect(updated.id).toBe(root.id);
    await page.locator('#root').screenshot({ path: artifactPath('teams-card-applet-assigned.png') });
  });
});
