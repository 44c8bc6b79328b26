import { beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../lambdas/health-check/config';
import { healthConfigOf } from '../../lib/ops/commands/status';
import { MANIFEST_OUTPUT_KEY, parseManifest } from '../../lib/ops/manifest';
import { deployedProd } from './deployed-env';

// "The CLI and the automation cannot disagree": `ops health` reads the deployed manifest and must
// apply the thresholds the scheduled health check is deployed with.
let deployed: Awaited<ReturnType<typeof deployedProd>>;
// In a hook: waiting for the shared synth counts against the hook timeout, not a test's.
beforeAll(async () => {
  deployed = await deployedProd((v) => 'P95_MAX_SECONDS' in v);
});

describe('ops health', () => {
  it('applies the thresholds the deployed health check applies', () => {
    const lambda = configFromEnv(deployed.env);
    const manifest = parseManifest(deployed.output(MANIFEST_OUTPUT_KEY), deployed.stackName, 'prod');
    expect(healthConfigOf(manifest).thresholds).toEqual(lambda.thresholds);
  });

  it("reads them from the manifest, not from the Lambda's defaults (which prod happens to equal)", () => {
    const manifest = parseManifest(deployed.output(MANIFEST_OUTPUT_KEY), deployed.stackName, 'prod');
    expect(manifest.healthThresholds).toEqual({
      errorRateMax: Number(deployed.env.ERROR_RATE_MAX),
      errorRateHigh: Number(deployed.env.ERROR_RATE_HIGH),
      p95MaxSeconds: Number(deployed.env.P95_MAX_SECONDS),
      batchMaxRunningMinutes: Number(deployed.env.BATCH_MAX_RUNNING_MINUTES),
    });
  });
});
