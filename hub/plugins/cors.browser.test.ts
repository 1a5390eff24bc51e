import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../embeds/testing.js';
import { createTestAccount, startTestHub, type TestAccount, type TestHub } from '../testing/harness.js';

/** What a page on another origin sees when it calls the agent API, in real Chromium. */
describe('the agent API from a tool on another origin', { timeout: 60_000 }, () => {
  let t: TestHub;
  let a: TestAccount;
  let browser: Browser;
  let tools: Server;
  let api: string;
  let allowed: string;
  let other: string;

  beforeAll(async () => {
    // One server, two origins: the listed one by name, an unlisted one by address.
    tools = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>tool</title>'));
    await new Promise<void>((resolve) => tools.listen(0, '127.0.0.1', resolve));
    const port = (tools.address() as AddressInfo).port;
    allowed = `http://localhost:${port}`;
    other = `http://127.0.0.1:${port}`;
    t = await startTestHub({ jobs: false, env: { HUMMDESK_API_ORIGINS: allowed } });
    a = await createTestAccount(t);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    api = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    tools?.close();
    await t?.close();
  });

  const pageAt = async (origin: string): Promise<Page> => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${origin}/`);
    return page;
  };

  /** A bearer-token call (so a preflight first), and whether the event stream opens. */
  const callFrom = (page: Page) =>
    page.evaluate(
      async ({ api, token }) => {
        const call = await fetch(`${api}/conversations`, { headers: { authorization: `Bearer ${token}` } }).then(
          async (res) => ({ status: res.status, isList: Array.isArray((await res.json()).items) }),
          (err: Error) => ({ blocked: err.name }),
        );
        const stream = await new Promise<string>((resolve) => {
          const source = new EventSource(`${api}/events?access_token=${encodeURIComponent(token)}`);
          source.onopen = () => (source.close(), resolve('open'));
          source.onerror = () => (source.close(), resolve('error'));
        });
        return { call, stream };
      },
      { api, token: a.users.agent.token },
    );

  it('lets the listed origin call the API and follow the event stream', async () => {
    const page = await pageAt(allowed);
    expect(await callFrom(page)).toEqual({ call: { status: 200, isList: true }, stream: 'open' });
  });

  it('blocks an unlisted origin in the browser', async () => {
    const page = await pageAt(other);
    expect(await callFrom(page)).toEqual({ call: { blocked: 'TypeError' }, stream: 'error' });
  });
});
