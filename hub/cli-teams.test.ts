import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readZip, writeZip } from '../connectors/teams/zip.js';
import { encodePng } from '../connectors/teams/png.js';
import { protocolCorpusDir } from '../connectors/teams/conformance.js';
import { validatePackage } from '../connectors/teams/manifest.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hummdesk-teams-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const APP_ID = '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';

function hummdesk(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/hummdesk.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The packaged zip with one file changed (or removed with `undefined`). */
function altered(zip: Buffer, changes: Record<string, Buffer | undefined>): Buffer {
  const files = readZip(zip);
  for (const [name, data] of Object.entries(changes)) {
    if (data === undefined) files.delete(name);
    else files.set(name, data);
  }
  return writeZip([...files].map(([name, data]) => ({ name, data })));
}

describe('hummdesk teams package / validate', () => {
  const out = join(dir, 'app.zip');

  it('writes manifest.json, color.png and outline.png at the zip root, and validate accepts it (exit 0)', { timeout: 60_000 }, async () => {
    const made = await hummdesk(['teams', 'package', '--app-id', APP_ID, '--base-url', 'https://desk.example.com/', '--out', out]);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const files = readZip(readFileSync(out));
    expect([...files.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
    expect(manifest).toMatchObject({
      manifestVersion: '1.17', id: APP_ID, validDomains: ['desk.example.com'], webApplicationInfo: { id: APP_ID },
      bots: [{ botId: APP_ID, scopes: ['team', 'personal'] }],
      authorization: { permissions: { resourceSpecific: [{ name: 'ChannelMessage.Read.Group', type: 'Application' }] } },
    });
    const valid = await hummdesk(['teams', 'validate', out]);
    expect([valid.code, valid.stdout.trim()]).toEqual([0, `${out}: valid Teams app package`]);
  });

  it('exits 2 naming the field of a broken package', { timeout: 120_000 }, async () => {
    const zip = readFileSync(out);
    const manifest = JSON.parse(readZip(zip).get('manifest.json')!.toString('utf8'));
    const broken: [string, Buffer, string][] = [
      ['personal scope dropped', altered(zip, { 'manifest.json': Buffer.from(JSON.stringify({ ...manifest, bots: [{ ...manifest.bots[0], scopes: ['team'] }] })) }), 'bots[0].scopes'],
      ['bad accent colour', altered(zip, { 'manifest.json': Buffer.from(JSON.stringify({ ...manifest, accentColor: 'blue' })) }), 'accentColor'],
      ['bot id missing', altered(zip, { 'manifest.json': Buffer.from(JSON.stringify({ ...manifest, bots: [{ scopes: ['team', 'personal'] }] })) }), 'bots[0].botId'],
      ['outline 64×64', altered(zip, { 'outline.png': encodePng(64, 64, () => [255, 255, 255, 0]) }), 'icons.outline'],
      ['color icon missing', altered(zip, { 'color.png': undefined }), 'icons.color'],
      ['no manifest', altered(zip, { 'manifest.json': undefined }), 'manifest.json'],
      ['RSC permission dropped', altered(zip, { 'manifest.json': Buffer.from(JSON.stringify({ ...manifest, authorization: undefined })) }), 'authorization.permissions.resourceSpecific'],
      ['not a zip', Buffer.from('PK? no'), '(package)'],
    ];
    for (const [what, bytes, field] of broken) {
      expect([what, (await validatePackage(bytes)).map((p) => p.field)]).toEqual([what, expect.arrayContaining([field])]);
    }
    // The command itself, on two of them: exit 2 and the field on stderr.
    for (const [what, bytes, field] of [broken[0]!, broken[3]!]) {
      const file = join(dir, `${what.replace(/\W+/g, '-')}.zip`);
      writeFileSync(file, bytes);
      const r = await hummdesk(['teams', 'validate', file]);
      expect([what, r.code]).toEqual([what, 2]);
      expect(r.stderr).toContain(`${file}: ${field}: `);
    }
  });

  it('refuses a package for an app id that is not a GUID or a base URL that is not https (exit 2)', { timeout: 60_000 }, async () => {
    const r = await hummdesk(['teams', 'package', '--app-id', 'not-a-guid', '--base-url', 'https://desk.example.com', '--out', join(dir, 'x.zip')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('--app-id must be')]);
    const h = await hummdesk(['teams', 'package', '--app-id', APP_ID, '--base-url', 'http://desk.example.com', '--out', join(dir, 'x.zip')]);
    expect([h.code, h.stderr]).toEqual([2, expect.stringContaining('--base-url must be https')]);
  });
});

describe('hummdesk teams parse / conformance', () => {
  it('prints one JSON result per activity: a single activity, an array, a recording of named activities', { timeout: 60_000 }, async () => {
    const one = join(dir, 'one.json');
    writeFileSync(one, JSON.stringify({ type: 'message', channelId: 'msteams', text: '<at>HummDesk</at> hi', recipient: { id: '28:b' }, conversation: { id: '19:c@thread.tacv2;messageid=1' }, entities: [{ type: 'mention', mentioned: { id: '28:b', name: 'HummDesk' }, text: '<at>HummDesk</at>' }] }));
    const many = join(dir, 'many.json');
    writeFileSync(many, JSON.stringify([{ type: 'typing', channelId: 'msteams', conversation: { id: 'a:1' } }, { type: 'invoke', name: 'task/fetch', channelId: 'msteams' }]));
    const recording = join(dir, 'recording.json');
    writeFileSync(recording, JSON.stringify({ botName: 'x', first: { type: 'installationUpdate', action: 'add', channelId: 'msteams', conversation: { id: 'a:1', conversationType: 'personal' } } }));
    const r = await hummdesk(['teams', 'parse', one, many, recording]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; name?: string; result: { kind: string; text?: string; reason?: string } });
    expect(lines.map((l) => [l.file, l.name, l.result.kind])).toEqual([[one, undefined, 'message'], [many, undefined, 'ignored'], [many, undefined, 'ignored'], [recording, 'first', 'installed']]);
    expect(lines[0]!.result.text).toBe('hi');
    expect(lines[2]!.result.reason).toBe('invoke "task/fetch" is not handled');
  });

  it('conformance over the shared sets ends "N passed, 0 failed"; without them it says what it skipped', { timeout: 60_000 }, async () => {
    if (protocolCorpusDir()) {
      const r = await hummdesk(['teams', 'conformance']);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed$/);
    } else console.warn('SKIPPED: Teams protocol sets not found (set HUMMDESK_CORPUS_DIR or put shared/data beside the repo)');
    const bare = await hummdesk(['teams', 'conformance'], { HUMMDESK_CORPUS_DIR: join(dir, 'nothing-here') });
    expect(bare.stdout).toContain('SKIPPED: teams_net_activity_json not found');
    expect(bare.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed \(2 sets skipped\)$/);
  });
});
