import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-config-meta-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const load = (env: Record<string, string>) => loadConfig({ HUMMDESK_DATA_DIR: dataDir, HUMMDESK_SECRET_KEY: 'ab'.repeat(32), ...env });

describe('Meta app settings', () => {
  it('default to no secret, no verify token and the public Graph API', () => {
    expect(load({}).meta).toEqual({ appSecrets: [], verifyTokens: [], appIds: [], graphUrl: 'https://graph.facebook.com' });
  });

  it('read comma-separated secrets and tokens, and the operator\'s Graph URL without its trailing slash', () => {
    expect(load({ HUMMDESK_META_APP_SECRET: 'new, old', HUMMDESK_META_VERIFY_TOKEN: 'vt', HUMMDESK_META_APP_ID: '111, 222', HUMMDESK_META_GRAPH_URL: 'http://127.0.0.1:9000/' }).meta).toEqual({
      appSecrets: ['new', 'old'], verifyTokens: ['vt'], appIds: ['111', '222'], graphUrl: 'http://127.0.0.1:9000',
    });
  });

  it.each(['graph.facebook.com', 'ftp://graph.example', 'https://user:pw@graph.example', 'https://graph.example/?x=1'])('refuse %s as a Graph URL at start-up', (url) => {
    let err: unknown;
    try {
      load({ HUMMDESK_META_GRAPH_URL: url });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('invalid_meta_graph_url');
  });
});
