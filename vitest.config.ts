import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{connectors,hub,ai,storage,embeds,bench}/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
