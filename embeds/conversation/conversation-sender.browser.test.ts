import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelInstallation } from '../../connectors/core/types.js';
import { parseEmail } from '../../connectors/email/parse.js';
import { createTestAccount, eventually, startTestHub, type TestAccount, type TestHub } from '../../hub/testing/harness.js';
import { call } from '../../hub/testing/seed.js';
import { findInstallation } from '../../storage/repositories/channels.js';
import { withAccount } from '../../storage/session.js';
import { axeViolations, launchChromium } from '../testing.js';

/** `<hummdesk-conversation>` in real Chromium: each email shows who really sent it, and a newcomer is announced. */
describe('conversation view: message senders', { timeout: 120_000 }, () => {
  let t: TestHub;
  let browser: Browser;
  let base: string;
  let acct: TestAccount;
  let channel: ChannelInstallation;
  const mailbox = 'support@example.com';

  beforeAll(async () => {
    t = await startTestHub({ jobs: false });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    acct = await createTestAccount(t, { channelKind: 'email', channelKey: mailbox, secrets: {}, config: { address: mailbox, authservId: 'mx.support.example' } });
    channel = (await findInstallation(t.hub.db, t.hub.box, { kind: 'email', id: acct.channelId }))!;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const ingest = async (lines: string[]) => {
    const parsed = await parseEmail(Buffer.from([...lines, 'Date: Mon, 03 Jun 2024 10:00:00 +0000', '', lines.at(-1)!].join('\r\n')), { channelId: channel.id, mailbox, authservId: 'mx.support.example' });
    return (await t.hub.ingest.ingest(channel, [parsed.event]))[0]!;
  };

  it('shows the real sender of each message and lets an agent copy a newcomer', async () => {
    const opened = await ingest(['From: Jane Roe <jane.roe@customer.example>', `To: ${mailbox}`, 'Subject: Contract renewal', 'Message-ID: <open-1@customer.example>', 'Please renew our contract.']);
    // Someone who knows the Message-ID answers under the customer's display name.
    await ingest(['Authentication-Results: mx.support.example; dmarc=fail header.from=evil.example', 'From: Jane Roe <mallory@evil.example>', `To: ${mailbox}`, 'Subject: Re: Contract renewal', 'Message-ID: <evil-1@evil.example>', 'References: <open-1@customer.example>', 'Cancel it instead.']);
    const conversationId = opened.conversationId!;

    const minted = await call(t, acct.users.agent.token, 'POST', '/api/v1/embed-tokens');
    expect(minted.statusCode, minted.body).toBe(201);
    const token = minted.json<{ token: string }>().token;
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(20_000);
    // Served on the hub's own origin, as the demo page is.
    await page.route(`${base}/sender-test`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><html lang="en"><head><title>Agent</title><script type="module" src="${base}/embed/hummdesk.js"></script></head>
          <body><hummdesk-conversation conversation-id="${conversationId}" token="${token}"></hummdesk-conversation></body></html>`,
      }),
    );
    await page.goto(`${base}/sender-test`);

    const view = page.locator('hummdesk-conversation');
    const genuine = view.locator('li.message.inbound', { hasText: 'Please renew our contract.' });
    const hijack = view.locator('li.message.inbound', { hasText: 'Cancel it instead.' });
    await hijack.waitFor();
    expect(await genuine.locator('.author').textContent()).toBe('Jane Roe');
    expect(await genuine.locator('.address').textContent()).toBe('<jane.roe@customer.example>');
    // Same display name, but the address tells them apart.
    expect(await hijack.locator('.address').textContent()).toBe('<mallory@evil.example>');
    // The mailbox's own server found this From forged: agents see it.
    expect(await hijack.locator('.badge.forged').textContent()).toBe('From not verified');
    expect(await genuine.locator('.badge.forged').count()).toBe(0);

    const notice = view.locator('li.message.notice');
    expect((await notice.textContent())!).toContain('Jane Roe <mallory@evil.example> joined this thread');
    expect(await axeViolations(page)).toEqual([]);
    await notice.locator('button.add-participant').click();
    await notice.locator('.added', { hasText: 'Copied on replies' }).waitFor();
    await eventually(async () => {
      const { rows } = await withAccount(t.hub.db, acct.accountId, (tx) => tx.query<{ cc: string[] | null }>(`SELECT metadata->'cc' AS cc FROM conversations WHERE id = $1`, [conversationId]));
      return rows[0]?.cc?.includes('mallory@evil.example');
    });
  });
});
