import { readFile } from 'node:fs/promises';
import { parseEmail } from './parse.js';

const USAGE = `hummdesk email parse [--channel ID] [--mailbox ADDRESS] [--html] [--attachments] FILE.eml...

Prints each message as JSON (one object per line with several files): visibleText, full text,
thread headers, attachments, auto-reply and bounce flags, and the event the hub would ingest.`;

/** `hummdesk email …`: imports only the parser, so it starts fast and loads no database or model. */
export async function emailCli(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'parse') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { parseArgs } = await import('node:util');
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { channel: { type: 'string', default: 'cli' }, mailbox: { type: 'string' }, html: { type: 'boolean', default: false }, attachments: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) {
    process.stderr.write('hummdesk email parse: missing FILE.eml (see hummdesk email parse --help)\n');
    return 2;
  }
  let failed = 0;
  for (const file of positionals) {
    let raw: Buffer;
    try {
      raw = await readFile(file);
    } catch (err) {
      process.stderr.write(`${file}: ${(err as Error).message}\n`);
      failed++;
      continue;
    }
    const parsed = await parseEmail(raw, { channelId: values.channel!, mailbox: values.mailbox });
    const { event, html, ...info } = parsed;
    const shownEvent =
      event.type === 'message'
        ? { type: event.type, message: { ...event.message, raw: undefined, html: undefined, attachments: event.message.attachments.map((a) => ({ ...a, ref: values.attachments || !a.ref.startsWith('inline:') ? a.ref : `inline:<${a.size ?? 0} bytes>` })) } }
        : event;
    const out = { file, ...info, ...(values.html && html ? { html } : {}), event: shownEvent };
    process.stdout.write(`${JSON.stringify(out, null, positionals.length > 1 ? undefined : 2)}\n`);
  }
  return failed > 0 ? 1 : 0;
}
