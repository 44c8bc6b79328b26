import { beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, type RemediationConfig } from '../../lambdas/remediation/config';
import { sharedSynth } from '../helpers/synth';
import { deployedProd } from './deployed-env';

// The remediation function's configuration as deployed: the synthesized environment, resolved,
// through the handler's own parser; and the alarm severities it carries against the alarms.
let config: RemediationConfig;
let alarms: Array<{ name: string; severity: string | undefined }>;

beforeAll(async () => {
  const deployed = deployedProd(await sharedSynth(), (v) => 'ALARM_SEVERITIES' in v);
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
    expect(config.alarmPrefix).toBe('fa-ai-system-prod-');
  });

  it('knows the severity of every alarm of the stack, as the alarm notifies it', () => {
    for (const { name, severity } of alarms) {
      const id = name.slice(config.alarmPrefix.length);
      expect(config.alarmSeverities[id], name).toBeDefined();
      if (severity !== undefined) expect(config.alarmSeverities[id], name).toBe(`P${severity}`);
    }
  });

  it('pages P1 for the pool-exhausted alarm', () => {
    expect(config.alarmSeverities['log-db-pool-exhausted']).toBe('P1');
  });
});
