import { beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, type RemediationConfig } from '../../lambdas/remediation/config';
import { loadEnvironmentConfig } from '../../lib/config';
import { stackName } from '../../lib/naming';
import { createResolver } from '../helpers/cfn-resolve';
import { sharedSynth } from '../helpers/synth';

// The remediation function's configuration as deployed: the synthesized environment, resolved,
// through the handler's own parser; and the alarm severities it carries against the alarms.
let config: RemediationConfig;
let alarms: Array<{ name: string; severity: string | undefined }>;

beforeAll(async () => {
  const synth = await sharedSynth();
  const templates = {
    [stackName('prod', 'stateful')]: synth.templateJson('prod', 'stateful'),
    [stackName('prod', 'service')]: synth.templateJson('prod', 'service'),
  };
  const service = stackName('prod', 'service');
  const resolver = createResolver({
    templates: templates as never,
    account: loadEnvironmentConfig('prod').account ?? '123456789012',
    region: 'us-east-1',
    parameterValues: {
      TrafficWeightsParameter: ['100', '0'],
      BatchScheduleStateParameter: 'ENABLED',
      BootstrapVersion: '30',
    },
  });
  const resources = Object.values((templates[service] as { Resources: Record<string, any> }).Resources);
  const fn = resources.find(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.ALARM_SEVERITIES,
  );
  config = configFromEnv(resolver.resolve(service, fn.Properties.Environment.Variables));
  alarms = resources
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
