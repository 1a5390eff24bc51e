import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ImapFlow } from 'imapflow';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, axeViolations, launchChromium } from '../../embeds/testing.js';
import { startHubProcess, type HubProcess } from '../testing/hub-process.js';

// The acceptance test of issue #16: a new team lead with only a browser, on a fresh `npm start`, sets up a
// desk (their own owner login, an email channel, an agent, a team, an article) and answers a customer's
// email end to end. Everything the lead does goes through the page; mail goes through real servers.
const imapUrl = process.env.IMAP_URL;
const lmtpUrl = process.env.LMTP_URL;
if (!imapUrl || !lmtpUrl) console.warn('SKIPPED: IMAP_URL / LMTP_URL are not set (run through scripts/test.sh, which starts Dovecot)');
const imap = imapUrl ? new URL(imapUrl) : undefined;
const lmtp = lmtpUrl ? new URL(lmtpUrl) : undefined;
const mailPassword = process.env.IMAP_PASSWORD ?? 'hummdesk';
const run = randomBytes(4).toString('hex');
const support = `support-${run}@example.test`;
const customer = `jane-${run}@customer.test`;

const VARIANTS = [
  { width: 1440, height: 900, scheme: 'light' },
  { width: 1440, height: 900, scheme: 'dark' },
  { width: 390, height: 844, scheme: 'light' },
  { width: 390, height: 844, scheme: 'dark' },
] as const;

describe.skipIf(!imap || !lmtp)('a new team lead with only a browser, on a fresh `hummdesk start`', { timeout: 600_000 }, () => {
  let hub: HubProcess;
  let smtp: SMTPServer;
  let smtpPort = 0;
  let browser: Browser;
  let page: Page;
  const toDovecot = lmtp ? nodemailer.createTransport({ host: lmtp.hostname, port: Number(lmtp.port), lmtp: true, secure: false, ignoreTLS: true } as never) : undefined;
  /** Serious or critical axe findings per screen and theme (asserted empty at the end, so every screen is seen). */
  const findings: { screen: string; violations: Awaited<ReturnType<typeof axeViolations>> }[] = [];

  /** Every screen the lead sees, at 1440×900 and 390×844, light and dark, checked by axe in both themes; `subject` is scrolled into view. */
  const shoot = async (screen: string, subject?: Locator) => {
    for (const v of VARIANTS) {
      await page.setViewportSize({ width: v.width, height: v.height });
      await page.emulateMedia({ colorScheme: v.scheme });
      await subject?.scrollIntoViewIfNeeded();
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await page.screenshot({ path: artifactPath(`team-lead/${screen}-${v.width}x${v.height}-${v.scheme}.png`) });
      if (v.width === 1440) {
        const violations = await axeViolations(page);
        if (violations.length) findings.push({ screen: `${screen} (${v.scheme})`, violations });
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
  };

  const deliver = (to: string, headers: string[], body: string) =>
    toDovecot!.sendMail({ envelope: { from: customer, to }, raw: [...headers, `Date: ${new Date().toUTCString()}`, '', body, ''].join('\r\n') });

  /** The messages in a Dovecot mailbox, parsed (a long line arrives quoted-printable, split). */
  const mailbox = async (user: string): Promise<ParsedMail[]> => {
    const c = new ImapFlow({ host: imap!.hostname, port: Number(imap!.port), secure: false, auth: { user, pass: mailPassword }, logger: false });
    await c.connect();
    const lock = await c.getMailboxLock('INBOX');
    try {
      const all = await c.fetchAll('1:*', { source: true }).catch(() => []);
      return await Promise.all(all.map((m) => simpleParser(m.source!)));
    } finally {
      lock.release();
      await c.logout();
    }
  };

  const console_ = () => page.locator('hummdesk-admin');
  const openTab = async (screen: 'channels' | 'people' | 'kb') => {
    await console_().locator(`[role=tab][data-screen=${screen}]`).click();
  };
  const inboxRow = (text: string) => page.locator('hummdesk-inbox [role=option]', { hasText: text });
  const view = async (label: string) => {
    await page.locator('hummdesk-inbox [part=views] button', { hasText: label }).click();
  };

  beforeAll(async () => {
    // The mail provider's submission server: accepts the hub's replies and hands them to Dovecot, where the customer reads them.
    smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onAuth: (auth, _s, cb) => (auth.password === mailPassword ? cb(null, { user: auth.username }) : cb(new Error('bad login'))),
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          toDovecot!
            .sendMail({ envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) }, raw: Buffer.concat(chunks) })
            .then(() => cb(), (err: Error) => cb(err));
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as AddressInfo).port;
    hub = await startHubProcess();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    context.setDefaultTimeout(60_000);
    page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    if (smtp) await new Promise<void>((r) => smtp.close(() => r()));
  }, 120_000);

  it('signs in with the printed first login and makes their own owner login', async () => {
    await page.goto(`${hub.url}/`);
    await page.locator('#login-form').waitFor();
    await shoot('01-sign-in');
    // The hub printed this login when it started: the lead types what the terminal shows.
    await page.locator('#login-email').fill(hub.login.email);
    await page.locator('#login-password').fill(hub.login.password);
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('hummdesk-inbox [part=views]').waitFor();
    await shoot('02-desk-first-login');

    await page.locator('#settings').click();
    await console_().locator('hummdesk-admin-channels table[part=list]').waitFor();
    await openTab('people');
    const people = page.locator('hummdesk-admin-people');
    await people.locator('#user-name').fill('Lea Lead');
    await people.locator('#user-email').fill('lea@acme.test');
    await people.locator('#user-role').selectOption('owner');
    await people.locator('[part=add-user] button[type=submit]').click();
    const link = await people.locator('#invite-link').innerText();
    await shoot('03-console-owner-invite', people.locator('#invite-link'));

    await page.locator('#logout').click();
    await page.locator('#login-form').waitFor();
    await page.goto(link);
    await page.locator('#invite-form').waitFor();
    await shoot('04-invite-accept');
    await page.locator('#invite-password').fill('lea picked a long password');
    await page.locator('#invite-form button[type=submit]').click();
    await page.locator('#login-form').waitFor();
    expect(await page.locator('#login-email').inputValue()).toBe('lea@acme.test');
    await page.locator('#login-password').fill('lea picked a long password');
    await page.locator('#login-form button[type=submit]').click();
    await page.locator('hummdesk-inbox [part=views]').waitFor();
    expect(await page.locator('#agent-status').innerText()).toContain('Lea Lead');
    expect(await page.locator('#settings').isVisible()).toBe(true);
  });

  it('connects the support mailbox: "Test connection" passes, then the channel is created', async () => {
    await page.locator('#settings').click();
    const channels = page.locator('hummdesk-admin-channels');
    await channels.locator('table[part=list]').waitFor();
    await shoot('05-console-channels');
    await channels.locator('[data-add=email]').click();
    const form = channels.locator('form[part=email-form]');
    await form.locator('#email-name').fill('Support mailbox');
    await form.locator('#email-address').fill(support);
    await form.locator('#email-displayName').fill('Acme Support');
    await form.locator('#email-imapHost').fill(imap!.hostname);
    await form.locator('#email-imapPort').fill(imap!.port);
    await form.locator('#email-imapSecure').uncheck();
    await form.locator('#email-imapPassword').fill(mailPassword);
    await form.locator('#email-smtpHost').fill('127.0.0.1');
    await form.locator('#email-smtpPort').fill(String(smtpPort));
    await form.locator('#email-smtpSecure').uncheck();
    await form.locator('#email-smtpPassword').fill(mailPassword);
    await form.locator('[data-action=test-connection]').click();
    const check = form.locator('[data-check]');
    await check.waitFor();
    expect(await check.getAttribute('data-check'), await check.innerText()).toBe('ok');
    await shoot('06-console-email-tested', check);
    await form.locator('button[type=submit]').click();
    const row = channels.locator('tr[data-kind=email]');
    await row.waitFor();
    expect(await row.innerText()).toContain('Support mailbox');
    await shoot('07-console-email-created', row);
  });

  it('invites an agent and builds a team', async () => {
    await openTab('people');
    const people = page.locator('hummdesk-admin-people');
    await people.locator('#user-name').fill('Sam Agent');
    await people.locator('#user-email').fill('sam@acme.test');
    await people.locator('#user-role').selectOption('agent');
    await people.locator('[part=add-user] button[type=submit]').click();
    expect(await people.locator('#invite-link').innerText()).toMatch(/\?invite=/);
    await shoot('08-console-agent-invited', people.locator('#invite-link'));

    await people.locator('#team-name').fill('Front line');
    await people.locator('#team-name').press('Enter');
    const team = people.locator('fieldset', { hasText: 'Front line' });
    await team.waitFor();
    for (const who of ['Lea Lead', 'Sam Agent']) {
      const id = await people.locator('tr', { hasText: who }).getAttribute('data-id');
      await team.locator(`[data-member="${id}"]`).check();
      await expect.poll(() => team.locator(`[data-member="${id}"]`).isDisabled()).toBe(false);
    }
    await shoot('09-console-team', team);
  });

  it('writes and publishes an article', async () => {
    await openTab('kb');
    const kb = page.locator('hummdesk-admin-kb');
    await kb.locator('table[part=list]').waitFor();
    await kb.locator('[data-action=new-article]').click();
    const editor = kb.locator('form[part=editor]');
    await editor.locator('#article-title').fill('Returning an order');
    await editor.locator('#article-tags').fill('returns');
    await editor.locator('#article-body').fill('## Returns\n\nYou can return any order within **30 days**. Write to us with the order number and we send a prepaid label.');
    await editor.locator('[part=preview] strong').waitFor();
    await shoot('10-console-kb-editor', editor);
    await editor.locator('[data-action=save-publish]').click();
    const row = kb.locator('tr', { hasText: 'Returning an order' });
    await row.locator('[data-status=published]').waitFor();
    await shoot('11-console-kb', row);
  });

  it('answers a customer email end to end: the reply reaches the mailbox; assigned, snoozed, woken by the customer, resolved', async () => {
    await page.locator('#settings').click(); // back to the inbox
    await page.locator('hummdesk-inbox [part=views]').waitFor();
    await deliver(support, [`From: Jane Customer <${customer}>`, `To: ${support}`, 'Subject: Return my order 7731', `Message-ID: <first-${run}@customer.test>`],
      'Hello, the shoes in order 7731 do not fit. How do I return them?');
    // The hub picks the new mailbox up by itself (within its rescan) and the inbox shows the mail live.
    await view('All open');
    const row = inboxRow('Jane Customer');
    await row.waitFor({ timeout: 180_000 });
    expect(await row.innerText()).toContain('do not fit');
    await row.click();
    const conversation = page.locator('hummdesk-conversation');
    await conversation.locator('li.message', { hasText: 'do not fit' }).waitFor();
    await shoot('12-desk-conversation');

    const bar = conversation.locator('[part=actions]');
    await bar.locator('[data-action=team]').selectOption({ label: 'Front line' });
    await expect.poll(() => bar.locator('[data-action=team]').evaluate((s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent?.trim())).toBe('Front line');
    await bar.locator('[data-action=assign-me]').click();
    await expect.poll(() => row.locator('.assignee').innerText()).toBe('Lea Lead');

    await conversation.locator('textarea').fill('Hi Jane, sorry about the fit. Reply with your address and we send a prepaid return label for order 7731.');
    await conversation.locator('button.send').click();
    await conversation.locator('li.message', { hasText: 'prepaid return label' }).waitFor();
    let reply: ParsedMail | undefined;
    await expect.poll(async () => (reply = (await mailbox(customer)).find((m) => m.text?.includes('prepaid return label'))), { timeout: 120_000 }).toBeDefined();
    expect(reply!.subject).toBe('Re: Return my order 7731');
    expect(reply!.inReplyTo).toBe(`<first-${run}@customer.test>`);
    expect(reply!.from?.text).toContain(support);
    await shoot('13-desk-replied');

    await bar.locator('[data-action=snooze]').selectOption('tomorrow');
    await bar.locator('[data-action=reopen]').waitFor();
    await view('Snoozed');
    await inboxRow('Jane Customer').waitFor();
    await shoot('14-desk-snoozed');

    // The customer answers the reply: the conversation wakes at once.
    const ourId = reply!.messageId!;
    await deliver(support, [`From: Jane Customer <${customer}>`, `To: ${support}`, 'Subject: Re: Return my order 7731', `Message-ID: <second-${run}@customer.test>`, `In-Reply-To: ${ourId}`, `References: <first-${run}@customer.test> ${ourId}`],
      'Thanks! My address is Main Street 1, Springfield.');
    await conversation.locator('li.message', { hasText: 'Main Street 1' }).waitFor({ timeout: 120_000 });
    await bar.locator('[data-action=resolve]').waitFor();
    await view('All open');
    await inboxRow('Jane Customer').waitFor();
    await shoot('15-desk-woken');

    await bar.locator('[data-action=resolve]').click();
    await bar.locator('[data-action=reopen]').waitFor();
    await view('Resolved');
    await inboxRow('Jane Customer').waitFor();
    await shoot('16-desk-resolved');
  });

  it('every screen passes axe (no serious or critical violation) in light and dark', () => {
    expect(findings).toEqual([]);
  });
});
