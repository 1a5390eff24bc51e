import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'hummdesk-email-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hummdesk email parse', () => {
  it('prints the normalized message with visibleText, full text, thread headers and flags', async () => {
    const file = join(dir, 'reply.eml');
    writeFileSync(file, ['From: Jane <jane@customer.example>', 'To: support@example.com', 'Subject: Re: Order 42', 'Message-ID: <r2@customer.example>', 'In-Reply-To: <o1@example.com>', 'References: <q0@customer.example> <o1@example.com>', 'Auto-Submitted: auto-replied', '', 'Out until Monday.', '', 'On Mon, 3 Jun 2024 at 09:00, Support <support@example.com> wrote:', '> Your order shipped.', ''].join('\r\n'));
    const { stdout } = await run(process.execPath, ['bin/hummdesk.js', 'email', 'parse', file], { env: { ...process.env, DATABASE_URL: 'postgres://nowhere.invalid/none' } });
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({
      messageId: 'r2@customer.example',
      inReplyTo: 'o1@example.com',
      references: ['q0@customer.example', 'o1@example.com'],
      visibleText: 'Out until Monday.',
      autoReply: true,
      event: { type: 'message', message: { threadKey: 'email:cli:q0@customer.example', autoReply: true } },
    });
    expect(out.text).toContain('> Your order shipped.');
  });

  it('exits 1 naming a missing file, 2 without arguments', async () => {
    await expect(run(process.execPath, ['bin/hummdesk.js', 'email', 'parse', join(dir, 'nope.eml')])).rejects.toMatchObject({ code: 1 });
    await expect(run(process.execPath, ['bin/hummdesk.js', 'email'])).rejects.toMatchObject({ code: 2 });
  });
});
