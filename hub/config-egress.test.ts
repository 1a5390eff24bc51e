import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dataDir = mkdtempSync(join(tmpdir(), 'hummdesk-config-egress-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const load = (env: Record<string, string>) => loadConfig({ HUMMDESK_DATA_DIR: dataDir, HUMMDESK_SECRET_KEY: 'ab'.repeat(32), ...env });

describe('egress settings', () => {
  it('allow nothing private and verify every certificate by default', () => {
    expect(load({}).egress).toEqual({ allowPrivateHosts: [], allowInsecureTls: false });
  });

  it('read the operator allow-list and refuse a malformed one at start-up', () => {
    expect(load({ HUMMDESK_ALLOW_PRIVATE_HOSTS: '127.0.0.1:*, [::1]:1143', HUMMDESK_ALLOW_INSECURE_TLS: 'true' }).egress).toEqual({ allowPrivateHosts: ['127.0.0.1:*', '[::1]:1143'], allowInsecureTls: true });
    const err = (() => {
      try {
        load({ HUMMDESK_ALLOW_PRIVATE_HOSTS: '127.0.0.1' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('invalid_allow_private_hosts');
  });
});
