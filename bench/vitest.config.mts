import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Only the round-trip measurement: no global synth (it needs none) and not part of the suite.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['bench/roundtrips.spec.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
