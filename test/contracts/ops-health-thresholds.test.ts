import { beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_THRESHOLD_FIELDS, healthCheckContract } from '../../core/contracts/health-check';
import { configFromEnv } from '../../core/health/config';
import { healthConfigOf } from '../../lib/ops/commands/status';
import { MANIFEST_OUTPUT_KEY, parseManifest } from '../../lib/ops/manifest';
import { sharedSynth } from '../helpers/synth';
import { deployedProd } from './deployed-env';

let deployed: ReturnType<typeof deployedProd>;

beforeAll(async () => {
  deployed = deployedProd(await sharedSynth(), (v) => 'P95_MAX_SECONDS' in v);
});

// "The CLI and the automation cannot disagree": `ops health` reads the deployed manifest and must
// apply the thresholds the scheduled health check is deployed with.
describe('ops health', () => {
  it('applies the thresholds the deployed health check applies', () => {
    const lambda = configFromEnv(deployed.env);
    const manifest = parseManifest(deployed.output(MANIFEST_OUTPUT_KEY), deployed.stackName, 'prod');
    expect(healthConfigOf(manifest).thresholds).toEqual(lambda.thresholds);
  });

  it("reads every threshold variable of the health check's contract from the manifest", () => {
    const values = healthCheckContract.parse(deployed.env);
    const manifest = parseManifest(deployed.output(MANIFEST_OUTPUT_KEY), deployed.stackName, 'prod');
    expect(manifest.healthThresholds).toEqual(
      Object.fromEntries(HEALTH_THRESHOLD_FIELDS.map((field) => [field, values[field]])),
    );
  });
});
