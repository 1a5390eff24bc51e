import { readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { InboundEvent } from '../connectors/core/types.js';
import { ConnectorError } from '../connectors/core/errors.js';
import { metaCases, errorOf, type MetaCase } from '../connectors/meta/cases.js';
import { eventLine } from '../connectors/meta/summary.js';
import { splitWhatsAppWebhook, whatsappEvents } from '../connectors/whatsapp/parse.js';
import { messengerEvents, splitMessengerWebhook } from '../connectors/messenger/parse.js';

export const META_USAGE = `hummdesk meta parse [--raw] [--lines] FILE...
hummdesk meta conformance [--dir DIR] [--verbose] [--write]

parse        prints the normalized events of each Meta webhook body (WhatsApp Cloud API, Messenger) as
             JSON, one object per body; a file may be one body or an object of named bodies. No database.
             Instagram bodies (object "instagram") are refused: instagram_not_supported.
             Each business number's events carry its phone_number_id, each Page's its Page id, as the
             channel id.
conformance  parses every payload of the shared sets (DIR, default $HUMMDESK_CORPUS_DIR/protocol, else
             ../shared/data/protocol beside the checkout, else /work/shared/data/protocol) and compares each with its hand-checked expected output;
             ends "N passed, 0 failed". Exit 1 on any failure. --write records the output as the new
             expected file, whose diff must then be checked by hand.`;

/** A body's events, each business number's (each Page's) with its phone_number_id (Page id) standing in for the channel id. */
export function metaEvents(body: unknown): InboundEvent[] {
  const object = (body as { object?: unknown } | null)?.object;
  // Instagram messaging shares Messenger's shape but is no channel of ours: said so, not parsed as another platform.
  if (object === 'instagram') throw new ConnectorError('Instagram messaging (object "instagram") is not a channel HummDesk serves: only WhatsApp and Messenger (object "page") webhooks are', 'meta', 'instagram_not_supported');
  if (object === 'page') {
    const pages = splitMessengerWebhook(body);
    return [...pages.ignored, ...[...pages.byPage].flatMap(([page, items]) => messengerEvents(page, page, items))];
  }
  const split = splitWhatsAppWebhook(body);
  return [...split.ignored, ...[...split.byNumber].flatMap(([number, changes]) => whatsappEvents(number, changes))];
}

function caseResult(c: MetaCase): { events?: InboundEvent[]; error?: { code: string; message: string } } {
  if (c.error) return { error: c.error };
  try {
    return { events: metaEvents(c.body) };
  } catch (err) {
    return { error: errorOf(err) };
  }
}

const EXPECTED_WHATSAPP = fileURLToPath(new URL('../connectors/whatsapp/conformance.expected.json', import.meta.url));
const EXPECTED_MESSENGER = fileURLToPath(new URL('../connectors/messenger/conformance.expected.json', import.meta.url));

/** The payload sets conformance runs over, relative to the protocol folder, each with its expected-output file. */
const SETS: { dir: string; file: RegExp; expected: string }[] = [
  { dir: 'pywa_whatsapp_updates', file: /\.json$/, expected: EXPECTED_WHATSAPP },
  { dir: 'vercel_chat_replay', file: /whatsapp.*\.json$/i, expected: EXPECTED_WHATSAPP },
  { dir: 'vercel_chat_replay', file: /messenger.*\.json$/i, expected: EXPECTED_MESSENGER },
  // Instagram messaging is not served: its bodies are expected to be refused with instagram_not_supported.
  { dir: 'vercel_chat_replay', file: /instagram.*\.json$/i, expected: EXPECTED_MESSENGER },
  { dir: join('botbuilder_dotnet', 'facebook_adapter'), file: /\.json$/, expected: EXPECTED_MESSENGER },
];

export async function metaCli(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'parse') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { raw: { type: 'boolean', default: false }, lines: { type: 'boolean', default: false } } });
    if (positionals.length === 0) {
      process.stderr.write('hummdesk meta parse: missing FILE (see hummdesk meta --help)\n');
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
      for (const c of metaCases(file, raw)) {
        const r = caseResult(c);
        if (r.error) {
          failed++;
          process.stderr.write(`${c.id}: ${r.error.message} (${r.error.code})\n`);
          continue;
        }
        const events = values.lines ? r.events!.map(eventLine) : r.events!.map((e) => (e.type === 'message' && !values.raw ? { ...e, message: { ...e.message, raw: undefined } } : e));
        process.stdout.write(`${JSON.stringify({ source: c.id, events }, null, values.lines ? 2 : undefined)}\n`);
      }
    }
    return failed ? 1 : 0;
  }
  if (sub === 'conformance') {
    const { values } = parseArgs({ args: rest, allowPositionals: false, options: { dir: { type: 'string' }, verbose: { type: 'boolean', default: false }, write: { type: 'boolean', default: false } } });
    const base = resolve(values.dir ?? protocolDir());
    if (!existsSync(base)) {
      process.stdout.write(`SKIPPED: no payload sets at ${base} (set HUMMDESK_CORPUS_DIR or --dir)\n0 passed, 0 failed\n`);
      return 0;
    }
    const outcome = await conformance(base, values.verbose ?? false);
    // A new payload set or a parser change: record what it gives now, then read the diff line by line before committing it.
    if (values.write) for (const [file, actual] of Object.entries(outcome.actual)) await writeFile(file, `${JSON.stringify(actual, null, 2)}\n`);
    process.stdout.write(`${outcome.passed} passed, ${outcome.failed} failed\n`);
    return outcome.failed ? 1 : 0;
  }
  process.stderr.write(`${META_USAGE}\n`);
  return 2;
}

/** $HUMMDESK_CORPUS_DIR/protocol, else the shared data beside the checkout, else /work/shared/data. */
export function protocolDir(): string {
  if (process.env.HUMMDESK_CORPUS_DIR) return join(process.env.HUMMDESK_CORPUS_DIR, 'protocol');
  const beside = fileURLToPath(new URL('../../shared/data/protocol', import.meta.url));
  return existsSync(beside) ? beside : '/work/shared/data/protocol';
}

/** Every case of the shared sets against its expected lines (an error is the line `error <code>`). */
export async function conformance(base: string, verbose = false, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<{ passed: number; failed: number; actual: Record<string, Record<string, string[]>> }> {
  /** Per expected-output file: what each case gives now. */
  const actual: Record<string, Record<string, string[]>> = {};
  let passed = 0;
  let failed = 0;
  for (const set of SETS) {
    const expected = existsSync(set.expected) ? (JSON.parse(await readFile(set.expected, 'utf8')) as Record<string, string[]>) : {};
    const got = (actual[set.expected] ??= {});
    const dir = join(base, set.dir);
    if (!existsSync(dir)) {
      out(`SKIPPED: ${set.dir} (not in ${base})`);
      continue;
    }
    const files = (await readdir(dir, { recursive: true })).filter((f) => set.file.test(f)).sort();
    for (const f of files) {
      const path = join(dir, f);
      for (const c of metaCases(relative(base, path), await readFile(path))) {
        const r = caseResult(c);
        const lines = r.error ? [`error ${r.error.code}`] : r.events!.map(eventLine);
        got[c.id] = lines;
        const want = expected[c.id];
        if (want && JSON.stringify(want) === JSON.stringify(lines)) {
          passed++;
          if (verbose) out(`ok   ${c.id}`);
        } else {
          failed++;
          out(`FAIL ${c.id}: ${want ? 'output differs from the expected' : 'no expected output recorded'}`);
          for (const l of lines) out(`       got  ${l}`);
          for (const l of want ?? []) out(`       want ${l}`);
        }
      }
    }
  }
  return { passed, failed, actual };
}
