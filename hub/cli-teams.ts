import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** `hummdesk teams …`: the app package and the activity parser, offline (no database, no hub). */

export const TEAMS_USAGE = `  teams package --app-id GUID --base-url https://HOST --out FILE.zip
                             the Teams app package (manifest.json, color.png, outline.png), validated offline
  teams validate FILE.zip    exit 0 when Teams would accept the package, exit 2 naming each broken field
  teams parse FILE.json...   one JSON result per Bot Framework activity (no database)
  teams conformance          parse the shared Teams activity sets against hand-checked results`;

export const TEAMS_HELP = `${TEAMS_USAGE.replace(/^ {2}teams/gm, 'hummdesk teams')}

package: --app-id is the Azure Bot's Microsoft App ID, --base-url the hub's public https URL (its host
goes into validDomains). validate: checks the zip layout, the manifest against the JSON schema bundled
in @microsoft/app-manifest, icon sizes (192×192 color, 32×32 outline), the bot's team and personal
scopes and the ChannelMessage.Read.Group permission. parse: a file may hold one activity, an array, or a
recording of named activities. conformance: reads $HUMMDESK_CORPUS_DIR/protocol (default ../shared/data).`;

/** A command line teams cannot run; cli.ts prints it with the usage hint and exits 2. */
export class TeamsUsageError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(message);
  }
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function args(where: string, argv: string[], options: NonNullable<Parameters<typeof parseArgs>[0]>['options'], positionals: boolean) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new TeamsUsageError(where, (e as Error).message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
}

export async function teamsCli(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'package': {
      const values = args('teams package', rest, { 'app-id': { type: 'string' }, 'base-url': { type: 'string' }, out: { type: 'string' } }, false).values as Record<string, string | undefined>;
      const missing = ['app-id', 'base-url', 'out'].filter((n) => !values[n]);
      if (missing.length) throw new TeamsUsageError('teams package', `missing ${missing.map((n) => `--${n}`).join(', ')}`);
      const { packageApp, ManifestInputError } = await import('../connectors/teams/manifest.js');
      try {
        const { zip, problems } = await packageApp({ appId: String(values['app-id']), baseUrl: String(values['base-url']) });
        if (problems.length) {
          for (const p of problems) err(`hummdesk teams package: ${p.field}: ${p.message}`);
          return 2;
        }
        writeFileSync(String(values.out), zip);
        out(`wrote ${String(values.out)} (manifest.json, color.png, outline.png; ${zip.length} bytes)`);
        return 0;
      } catch (e) {
        if (e instanceof ManifestInputError) throw new TeamsUsageError('teams package', e.message);
        throw e;
      }
    }
    case 'validate': {
      const { positionals } = args('teams validate', rest, {}, true);
      if (positionals.length !== 1) throw new TeamsUsageError('teams validate', 'give one FILE.zip');
      const { validatePackage } = await import('../connectors/teams/manifest.js');
      let bytes: Buffer;
      try {
        bytes = readFileSync(positionals[0]!);
      } catch (e) {
        throw new TeamsUsageError('teams validate', `cannot read ${positionals[0]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const problems = await validatePackage(bytes);
      for (const p of problems) err(`${positionals[0]}: ${p.field}: ${p.message}`);
      if (problems.length) return 2;
      out(`${positionals[0]}: valid Teams app package`);
      return 0;
    }
    case 'parse': {
      const { positionals } = args('teams parse', rest, {}, true);
      if (positionals.length === 0) throw new TeamsUsageError('teams parse', 'give at least one FILE.json');
      const { parseActivity } = await import('../connectors/teams/parse.js');
      let failed = 0;
      for (const file of positionals) {
        let json: unknown;
        try {
          json = JSON.parse(readFileSync(file, 'utf8'));
        } catch (e) {
          err(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          failed++;
          continue;
        }
        for (const { name, activity } of activitiesIn(json)) out(JSON.stringify({ file, ...(name ? { name } : {}), result: parseActivity(activity) }));
      }
      return failed ? 1 : 0;
    }
    case 'conformance': {
      args('teams conformance', rest, {}, false);
      const { conformanceCases, checkCase, protocolCorpusDir } = await import('../connectors/teams/conformance.js');
      const dir = protocolCorpusDir();
      const { cases, skipped } = conformanceCases(dir);
      for (const s of skipped) out(`SKIPPED: ${s} not found (set HUMMDESK_CORPUS_DIR or put shared/data beside the repo)`);
      let passed = 0;
      let failedCount = 0;
      for (const c of cases) {
        const r = checkCase(c);
        if (r.ok) passed++;
        else {
          failedCount++;
          out(`FAIL ${r.id}: ${r.problems.join('; ')}`);
        }
      }
      out(`${passed} passed, ${failedCount} failed${skipped.length ? ` (${skipped.length} sets skipped)` : ''}`);
      return failedCount ? 1 : 0;
    }
    default:
      throw new TeamsUsageError('teams', sub ? `unknown subcommand "${sub}" (expected package, validate, parse or conformance)` : 'missing subcommand (package, validate, parse or conformance)');
  }
}

/** One activity, an array of them, or a recording whose values are activities (vercel/chat replay files). */
function activitiesIn(json: unknown): { name?: string; activity: unknown }[] {
  if (Array.isArray(json)) return json.map((activity) => ({ activity }));
  if (json && typeof json === 'object' && typeof (json as { type?: unknown }).type !== 'string') {
    const named = Object.entries(json).filter(([, v]) => v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string');
    if (named.length) return named.map(([name, activity]) => ({ name, activity }));
  }
  return [{ activity: json }];
}
