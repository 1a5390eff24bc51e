import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{connectors,hub,ai,storage,embeds,bench}/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for a condition (a live update, a job): give it the time a loaded machine needs, not 1 s.
    expect: { poll: { timeout: 20_000, interval: 100 } },
    // Tests talk to mail servers on loopback (Dovecot, smtp-server); the hub refuses private hosts unless allowed.
    env: { HUMMDESK_ALLOW_PRIVATE_HOSTS: '127.0.0.1:*,[::1]:*,localhost:*' },
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
