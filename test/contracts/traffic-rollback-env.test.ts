import { beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../lambdas/traffic-rollback/config';
import { loadEnvironmentConfig } from '../../lib/config';
import { sharedSynth } from '../helpers/synth';
import { deployedProd } from './deployed-env';

let deployed: ReturnType<typeof deployedProd>;

beforeAll(async () => {
  deployed = deployedProd(await sharedSynth(), (v) => 'ROLLBACK_WINDOW_MINUTES' in v);
});

// The rollback function's windows as deployed: config's values, through the handler's parser.
describe('the deployed traffic-rollback configuration', () => {
  it("carries config's rollback window, cool-down and maximum event age", () => {
    const { env } = deployed;
    const traffic = loadEnvironmentConfig('prod').traffic;
    expect(configFromEnv(env)).toMatchObject({
      windowMinutes: traffic.rollbackWindowMinutes,
      cooldownMinutes: traffic.rollbackCooldownMinutes,
      maxEventAgeMinutes: traffic.rollbackMaxEventAgeMinutes,
    });
    expect(env.ROLLBACK_MAX_EVENT_AGE_MINUTES).toBe(String(traffic.rollbackMaxEventAgeMinutes));
  });

  it('is triggered by exactly the alarms its facts say roll traffic back', async () => {
    const facts = configFromEnv(deployed.env).alarmFacts;
    const resources = (await sharedSynth()).templateJson('prod', 'service').Resources as Record<string, any>;
    const rule = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.Targets).includes('RollbackHandler'),
    );
    const arns: Array<{ 'Fn::GetAtt': [string, string] }> = rule?.Properties.EventPattern.resources ?? [];
    const names = arns.map((arn) => resources[arn['Fn::GetAtt'][0]]?.Properties.AlarmName);
    expect(names).toEqual(['fa-ai-system-prod-p0']);
    expect(names).toEqual(facts.all.filter((f) => f.response === 'traffic-rollback').map((f) => f.name));
  });

  it("fits Lambda's 4 KB for all variables together", () => {
    const size = Object.entries(deployed.env).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
    expect(size).toBeLessThanOrEqual(4096);
  });
});
