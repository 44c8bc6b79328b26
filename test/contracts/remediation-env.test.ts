import { beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, type RemediationConfig } from '../../lambdas/remediation/config';
import { sharedSynth } from '../helpers/synth';
import { deployedProd } from './deployed-env';

// The remediation function's configuration as deployed: the synthesized environment, resolved,
// through the handler's own parser; and the alarm facts it carries against the alarms.
let config: RemediationConfig;
let env: Record<string, string>;
let alarms: Array<{ name: string; severity: string | undefined }>;

beforeAll(async () => {
  const deployed = deployedProd(await sharedSynth(), (v) => 'REMEDIATION' in v);
  env = deployed.env;
  config = configFromEnv(deployed.env);
  alarms = deployed.resources
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::CompositeAlarm')
    .map((r) => ({
      name: String(r.Properties.AlarmName),
      severity: JSON.stringify(r.Properties.AlarmActions ?? []).match(/AlertsP(\d)/)?.[1],
    }));
});

describe('the deployed remediation configuration', () => {
  it("parses with the handler's own parser", () => {
    expect(config.alarmFacts.namePrefix).toBe('fa-ai-system-prod-');
  });

  it('knows every alarm of the stack by its exact name, at the severity the alarm notifies', () => {
    for (const { name, severity } of alarms) {
      const fact = config.alarmFacts.byName(name);
      expect(fact, name).toBeDefined();
      if (severity !== undefined) expect(fact?.severity, name).toBe(`P${severity}`);
    }
  });

  it('knows no alarm the stack does not have', () => {
    const names = new Set(alarms.map((a) => a.name));
    expect(config.alarmFacts.all.filter((f) => !names.has(f.name)).map((f) => f.name)).toEqual([]);
  });

  it('pages P1 and restarts the live colour for the pool-exhausted alarm', () => {
    expect(config.alarmFacts.byName('fa-ai-system-prod-log-db-pool-exhausted')).toMatchObject({
      severity: 'P1',
      response: 'new-deployment',
    });
  });

  it("fits Lambda's 4 KB for all variables together", () => {
    const size = Object.entries(env).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
    expect(size).toBeLessThanOrEqual(4096);
  });
});
