import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The round-trip and detection-latency measurements: no global synth (they need none), not part of the suite.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['bench/roundtrips.spec.ts', 'bench/detection.spec.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
