/**
 * Desk scroll benchmark: the page at / in headless Chromium (1440×900) with an inbox of 10,000 open
 * conversations (PostgreSQL, written in bulk: this measures the list, not ingest). It loads every row
 * the way an agent does (scrolling to the end, a page of 50 at a time), then flings through the whole
 * list a step per animation frame and reports the frame times, the long tasks (> 50 ms) the page saw
 * while scrolling, and the most rows the list held in its DOM at once; beside the same fling over a bare
 * scroller of the same size in the same page (`ceiling_*`: what the machine does under its load right now).
 * Usage: npm run bench -- desk-scroll [--rows 10000] [--frames 1500]
 */
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { seedDemo } from '../../hub/services/demo.js';
import { startTestHub } from '../../hub/testing/harness.js';
import { seedBulkInbox } from '../../hub/testing/bulk-inbox.js';
import { launchChromium } from '../../embeds/testing.js';
import { machine } from '../support.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000' }, frames: { type: 'string', default: '1500' } } });
const rows = Number(values.rows);
const frames = Number(values.frames);
const load = loadavg().map((l) => Math.round(l * 10) / 10);

const t = await startTestHub({ jobs: false });
const browser = await launchChromium();
try {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  const demo = (await seedDemo(t.hub.db, t.hub.box, t.config.dataDir, base)).credentials!;
  const accountId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM accounts WHERE slug = 'demo'`)).rows[0]!.id;
  const channelId = (await t.hub.db.query<{ id: string }>(`SELECT id FROM channels WHERE account_id = $1 AND kind = 'webchat' ORDER BY created_at LIMIT 1`, [accountId])).rows[0]!.id;
  const seeded = performance.now();
  await seedBulkInbox(t.hub.db, accountId, channelId, rows, 'bench');
  console.log(`seeded ${rows} conversations in ${Math.round(performance.now() - seeded)} ms`);

  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  page.setDefaultTimeout(120_000);
  // tsx names functions with an `__name` helper that the page does not have.
  await page.addInitScript('globalThis.__name = (f) => f');
  await page.goto(`${base}/`);
  await page.locator('#login-password').fill(demo.password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('hummdesk-inbox li[role=option]').first().waitFor();

  // Every row, loaded as scrolling to the end loads them: until the list knows its size.
  const loadStart = performance.now();
  const total = await page.evaluate(async () => {
    const inbox = document.querySelector('hummdesk-inbox')!.shadowRoot!;
    const scroller = inbox.querySelector<HTMLElement>('.scroller')!;
    const complete = () => inbox.querySelector('li[role=option]')?.getAttribute('aria-setsize') !== '-1';
    while (!complete()) {
      scroller.scrollTop = scroller.scrollHeight;
      await new Promise((r) => setTimeout(r, 20));
    }
    return scroller.scrollHeight;
  });
  const loadMs = performance.now() - loadStart;
  console.log(`loaded every row in ${Math.round(loadMs)} ms (list ${total} px tall)`);

  // The fling: from the top to the bottom in `frames` steps, one per animation frame, measuring every frame.
  // Run first on a bare scroller of the same size holding the same number of static rows (the page's and
  // the machine's floor in this run), then on the inbox.
  const fling = (steps: number, bare: boolean) => page.evaluate(async ({ steps, bare }) => {
    let root: ShadowRoot | HTMLElement;
    let scroller: HTMLElement;
    if (bare) {
      const real = document.querySelector('hummdesk-inbox')!.shadowRoot!.querySelector<HTMLElement>('.scroller')!;
      scroller = document.createElement('div');
      scroller.style.cssText = `position: fixed; inset: 0 auto auto 0; inline-size: ${real.clientWidth}px; block-size: ${real.clientHeight}px; overflow-y: auto; background: white; z-index: 10`;
      const inner = document.createElement('ul');
      inner.style.cssText = `margin: 0; padding: 0; block-size: ${real.scrollHeight}px; position: relative`;
      for (let i = 0; i < 24; i++) {
        const li = document.createElement('li');
        li.setAttribute('role', 'option');
        li.textContent = `row ${i}`;
        li.style.cssText = `position: sticky; top: ${i * 80}px; block-size: 80px`;
        inner.append(li);
      }
      scroller.append(inner);
      document.body.append(scroller);
      root = scroller;
    } else {
      root = document.querySelector('hummdesk-inbox')!.shadowRoot!;
      scroller = root.querySelector<HTMLElement>('.scroller')!;
    }
    scroller.scrollTop = 0;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const longTasks: number[] = [];
    const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
    observer.observe({ type: 'longtask', buffered: false });
    const step = (scroller.scrollHeight - scroller.clientHeight) / steps;
    const deltas: number[] = [];
    let maxRows = 0;
    let blank = 0;
    let last = performance.now();
    for (let i = 1; i <= steps; i++) {
      scroller.scrollTop = Math.round(step * i);
      const now = await new Promise<number>((r) => requestAnimationFrame(r));
      deltas.push(now - last);
      last = now;
      const rendered = root.querySelectorAll('li[role=option]');
      maxRows = Math.max(maxRows, rendered.length);
      // A frame whose view holds no row is a blank the agent would see.
      const view = scroller.getBoundingClientRect();
      if (!Array.from(rendered).some((li) => { const r = li.getBoundingClientRect(); return r.bottom > view.top && r.top < view.bottom; })) blank++;
    }
    await new Promise((r) => setTimeout(r, 100));
    observer.disconnect();
    if (bare) scroller.remove();
    return { deltas, longTasks, maxRows, blank, reachedEnd: bare ? null : root.querySelector('li[role=option]:last-child')?.getAttribute('aria-posinset') };
  }, { steps, bare });

  const ceiling = await fling(frames, true);
  const result = await fling(frames, false);

  // The default view (open or pending): the bulk rows and the demo's own.
  const listed = (await t.hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM conversations WHERE account_id = $1 AND status IN ('open', 'pending')`, [accountId])).rows[0]!.n;
  const sorted = [...result.deltas].sort((a, b) => a - b);
  const bareSorted = [...ceiling.deltas].sort((a, b) => a - b);
  const quantile = (xs: number[], p: number) => Math.round(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]! * 10) / 10;
  const q = (p: number) => quantile(sorted, p);
  const summary = {
    bench: 'desk-scroll',
    rows,
    load_all_ms: Math.round(loadMs),
    frames: result.deltas.length,
    frame_p50_ms: q(0.5),
    frame_p95_ms: q(0.95),
    frame_p99_ms: q(0.99),
    frame_max_ms: Math.round(sorted[sorted.length - 1]! * 10) / 10,
    frames_over_33ms: result.deltas.filter((d) => d > 33.4).length,
    long_tasks: result.longTasks.length,
    long_task_total_ms: Math.round(result.longTasks.reduce((a, b) => a + b, 0)),
    ceiling_frame_p50_ms: quantile(bareSorted, 0.5),
    ceiling_frame_p95_ms: quantile(bareSorted, 0.95),
    ceiling_long_tasks: ceiling.longTasks.length,
    max_rendered_rows: result.maxRows,
    blank_frames: result.blank,
    last_row_reached: Number(result.reachedEnd) === listed,
    machine: machine(),
    loadavg_before: load,
    loadavg_after: loadavg().map((l) => Math.round(l * 10) / 10),
  };
  console.log(JSON.stringify(summary));
} finally {
  await browser.close();
  await t.close();
}
