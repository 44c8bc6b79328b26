import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../lambdas/traffic-rollback/logic';
import { loadEnvironmentConfig } from '../../lib/config';
import { deployedProd } from './deployed-env';

// The rollback function's windows as deployed: config's values, through the handler's parser.
describe('the deployed traffic-rollback configuration', () => {
  it("carries config's rollback window, cool-down and maximum event age", async () => {
    const { env } = await deployedProd((v) => 'ROLLBACK_WINDOW_MINUTES' in v);
    const traffic = loadEnvironmentConfig('prod').traffic;
    expect(configFromEnv(env)).toMatchObject({
      windowMinutes: traffic.rollbackWindowMinutes,
      cooldownMinutes: traffic.rollbackCooldownMinutes,
      maxEventAgeMinutes: traffic.rollbackMaxEventAgeMinutes,
    });
    expect(env.ROLLBACK_MAX_EVENT_AGE_MINUTES).toBe(String(traffic.rollbackMaxEventAgeMinutes));
  });
});
