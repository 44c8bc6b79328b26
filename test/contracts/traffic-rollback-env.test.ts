import { beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../lambdas/traffic-rollback/config';
import { loadEnvironmentConfig } from '../../lib/config';
import { sharedSynth } from '../helpers/synth';
import { deployedProd } from './deployed-env';

let env: Record<string, string>;

beforeAll(async () => {
  ({ env } = deployedProd(await sharedSynth(), (v) => 'ROLLBACK_WINDOW_MINUTES' in v));
});

// The rollback function's windows as deployed: config's values, through the handler's parser.
describe('the deployed traffic-rollback configuration', () => {
  it("carries config's rollback window, cool-down and maximum event age", () => {
    const traffic = loadEnvironmentConfig('prod').traffic;
    expect(configFromEnv(env)).toMatchObject({
      windowMinutes: traffic.rollbackWindowMinutes,
      cooldownMinutes: traffic.rollbackCooldownMinutes,
      maxEventAgeMinutes: traffic.rollbackMaxEventAgeMinutes,
    });
    expect(env.ROLLBACK_MAX_EVENT_AGE_MINUTES).toBe(String(traffic.rollbackMaxEventAgeMinutes));
  });
});
