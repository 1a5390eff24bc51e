import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readZip, writeZip, ZipError } from './zip.js';
import { pngInfo } from './png.js';

/** The Teams app package: manifests/teams/ (template and icons) filled in for one Azure Bot and one hub URL. */

const MANIFEST_DIR = new URL('../../manifests/teams/', import.meta.url);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One thing wrong with a package, named by its field (`bots[0].scopes`, `icons.outline`, `manifest.json`). */
export interface ManifestProblem {
  field: string;
  message: string;
}

export class ManifestInputError extends Error {
  constructor(
    readonly code: 'teams_app_id_invalid' | 'teams_base_url_invalid',
    message: string,
  ) {
    super(message);
    this.name = 'ManifestInputError';
  }
}

/** The manifest for app id (the Azure Bot's Microsoft App ID) and the hub's public https URL. */
export function buildManifest(opts: { appId: string; baseUrl: string }): Record<string, unknown> {
  if (!GUID.test(opts.appId)) throw new ManifestInputError('teams_app_id_invalid', `--app-id must be the bot's Microsoft App ID (a GUID), got "${opts.appId}"`);
  let url: URL;
  try {
    url = new URL(opts.baseUrl);
  } catch {
    throw new ManifestInputError('teams_base_url_invalid', `--base-url must be a URL, got "${opts.baseUrl}"`);
  }
  if (url.protocol !== 'https:') throw new ManifestInputError('teams_base_url_invalid', `--base-url must be https (Teams calls the bot and opens links only over https), got "${opts.baseUrl}"`);
  const template = readFileSync(new URL('manifest.template.json', MANIFEST_DIR), 'utf8');
  const filled = template
    .replaceAll('{{APP_ID}}', opts.appId.toLowerCase())
    .replaceAll('{{BASE_HOST}}', url.host)
    .replaceAll('{{BASE_URL}}', `${url.origin}${url.pathname.replace(/\/$/, '')}`);
  return JSON.parse(filled) as Record<string, unknown>;
}

/** manifest.json and both icons at the zip's root, validated first: a package Teams would refuse is never written. */
export async function packageApp(opts: { appId: string; baseUrl: string }): Promise<{ zip: Buffer; problems: ManifestProblem[] }> {
  const manifest = buildManifest(opts);
  const zip = writeZip([
    { name: 'manifest.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) },
    { name: 'color.png', data: readFileSync(new URL('color.png', MANIFEST_DIR)) },
    { name: 'outline.png', data: readFileSync(new URL('outline.png', MANIFEST_DIR)) },
  ]);
  return { zip, problems: await validatePackage(zip) };
}

/** `/bots/0` + `scopes` → `bots[0].scopes`. */
function fieldOf(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra) parts.push(extra);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(manifest)';
}

/** The JSON schema @microsoft/app-manifest bundles for this manifest version (validation stays offline). */
function bundledSchema(version: string): object | undefined {
  const root = dirname(createRequire(import.meta.url).resolve('@microsoft/app-manifest/package.json'));
  const path = join(root, 'build', 'json-schemas', 'teams', `v${version}`, 'MicrosoftTeams.schema.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as object) : undefined;
}

/** Everything wrong with an app package: zip layout, the bundled JSON schema, icon sizes, and what HummDesk needs. */
export async function validatePackage(zipBytes: Buffer): Promise<ManifestProblem[]> {
  let files: Map<string, Buffer>;
  try {
    files = readZip(zipBytes);
  } catch (err) {
    if (err instanceof ZipError) return [{ field: '(package)', message: err.message }];
    throw err;
  }
  const raw = files.get('manifest.json');
  if (!raw) return [{ field: 'manifest.json', message: 'the package has no manifest.json at its root' }];
  let manifest: Record<string, any>;
  try {
    manifest = JSON.parse(raw.toString('utf8').replace(/^\uFEFF/, '')) as Record<string, any>;
  } catch (err) {
    return [{ field: 'manifest.json', message: `not JSON: ${(err as Error).message}` }];
  }
  const problems: ManifestProblem[] = [];
  const version = String(manifest.manifestVersion ?? '');
  const [major, minor] = version.split('.').map(Number);
  if (!(major === 1 && (minor ?? 0) >= 17)) problems.push({ field: 'manifestVersion', message: `HummDesk needs manifest schema 1.17 or later, got "${version}"` });
  const schema = bundledSchema(version);
  if (!schema) problems.push({ field: 'manifestVersion', message: `no bundled schema for manifest version "${version}"` });
  else {
    const { ManifestUtil } = await import('@microsoft/app-manifest');
    // ManifestUtil formats Ajv's errors into strings; validate with the same Ajv setup to keep the paths.
    const errors = await ManifestUtil.validateManifestAgainstSchema(manifest as never, schema as never);
    for (const e of errors) {
      const m = /^(\S*) (.*?)\. Details: (.*)$/s.exec(e);
      const params = m ? (JSON.parse(m[3] || '{}') as { missingProperty?: string; additionalProperty?: string }) : {};
      problems.push({ field: fieldOf(m?.[1] ?? '', params.missingProperty ?? params.additionalProperty), message: m?.[2] ?? e });
    }
  }
  for (const [which, size] of [['color', 192], ['outline', 32]] as const) {
    const name = manifest.icons?.[which];
    const png = typeof name === 'string' ? files.get(name) : undefined;
    if (!png) {
      problems.push({ field: `icons.${which}`, message: `${String(name)} is not in the package` });
      continue;
    }
    const info = pngInfo(png);
    if (!info) problems.push({ field: `icons.${which}`, message: `${name} is not a PNG` });
    else if (info.width !== size || info.height !== size) problems.push({ field: `icons.${which}`, message: `${name} is ${info.width}×${info.height}; Teams needs ${size}×${size}` });
    else if (which === 'outline' && info.colorType !== 6 && info.colorType !== 4) problems.push({ field: 'icons.outline', message: 'the outline icon must be white on a transparent background (a PNG with alpha)' });
  }
  const bot = Array.isArray(manifest.bots) ? manifest.bots[0] : undefined;
  if (!bot) problems.push({ field: 'bots', message: 'HummDesk is a bot: the manifest needs one bots entry' });
  else {
    const scopes: unknown[] = Array.isArray(bot.scopes) ? bot.scopes : [];
    for (const s of ['team', 'personal']) if (!scopes.includes(s)) problems.push({ field: 'bots[0].scopes', message: `the bot needs the "${s}" scope` });
    if (manifest.webApplicationInfo?.id !== bot.botId) problems.push({ field: 'webApplicationInfo.id', message: 'must be the bot\'s app id' });
  }
  const rsc: { name?: string }[] = manifest.authorization?.permissions?.resourceSpecific ?? [];
  if (!rsc.some((p) => p.name === 'ChannelMessage.Read.Group')) {
    problems.push({ field: 'authorization.permissions.resourceSpecific', message: 'ChannelMessage.Read.Group is needed to receive agent thread replies without an @mention' });
  }
  const domains: unknown[] = Array.isArray(manifest.validDomains) ? manifest.validDomains : [];
  if (domains.length === 0) problems.push({ field: 'validDomains', message: 'list the hub\'s host so Teams opens its links' });
  // Same field reported by the schema and by us: keep one line each.
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(`${p.field}|${p.message}`) && !!seen.add(`${p.field}|${p.message}`));
}
