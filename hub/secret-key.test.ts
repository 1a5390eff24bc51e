import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-key-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const load = () => loadConfig({ HUMMDESK_DATA_DIR: dataDir });
const refusal = () => {
  try {
    load();
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted the key');
};

describe('secret.key', () => {
  it('is generated once, 32 bytes, readable by its owner only, and read back on the next start', () => {
    const first = load().secretKey;
    expect(first.length).toBe(32);
    const file = join(dataDir, 'secret.key');
    expect(readFileSync(file, 'utf8')).toBe(first.toString('hex'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataDir)).toEqual(['secret.key']);
    expect(load().secretKey.equals(first)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['not hex', 'not a key at all, just some words typed in here by mistake, sorry'],
    ['too short', 'abcdef0123'],
  ])('stops start-up when the file is %s, naming the file', (_what, content) => {
    writeFileSync(join(dataDir, 'secret.key'), content);
    const err = refusal();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('secret_key_invalid');
    expect(err.message).toContain(join(dataDir, 'secret.key'));
    // The bad file is left for the operator to restore, never replaced by a new key.
    expect(readFileSync(join(dataDir, 'secret.key'), 'utf8')).toBe(content);
  });

  it('refuses a HUMMDESK_SECRET_KEY that is not 32 bytes', () => {
    expect(() => loadConfig({ HUMMDESK_DATA_DIR: dataDir, HUMMDESK_SECRET_KEY: 'short' })).toThrow(expect.objectContaining({ code: 'secret_key_invalid' }));
  });
});

describe('the master key', () => {
  it('is refused by the secret box and token key derivation unless 32 bytes', async () => {
    const { SecretBox, deriveKey } = await import('../storage/secret-box.js');
    expect(() => new SecretBox(Buffer.alloc(0))).toThrow(/32 bytes/);
    expect(() => deriveKey(Buffer.alloc(16), 'jwt')).toThrow(/32 bytes/);
  });
});
