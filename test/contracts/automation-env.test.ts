import { beforeAll, describe, expect, it } from 'vitest';
import { type AutomationSettings, automationSettingsFromEnv } from '../../core/automation/env';
import { loadEnvironmentConfig } from '../../lib/config';
import { deployedProd } from './deployed-env';

// The AUTOMATION variable of every acting Lambda as deployed in prod, through the Lambdas' own
// parser, and what it points at: the verifier, the schedule group and the scheduler role.
let remediation: AutomationSettings;
let rollback: AutomationSettings;
let verifier: AutomationSettings;
let killSwitch: AutomationSettings;
let resources: Array<Record<string, any>>;

beforeAll(async () => {
  const r = await deployedProd((v) => 'ALARM_SEVERITIES' in v);
  remediation = automationSettingsFromEnv(r.env);
  rollback = automationSettingsFromEnv((await deployedProd((v) => 'ROLLBACK_WINDOW_MINUTES' in v)).env);
  verifier = automationSettingsFromEnv(
    (await deployedProd((v) => v.POWERTOOLS_SERVICE_NAME === 'automation-verify')).env,
  );
  killSwitch = automationSettingsFromEnv((await deployedProd((v) => 'KILL_SWITCH_BUDGET_NAME' in v)).env);
  resources = r.resources;
});

describe('the deployed automation settings', () => {
  it('carry the configured repeat guard and verification delay', () => {
    const config = loadEnvironmentConfig('prod').automation;
    expect(remediation.repeat).toEqual(config.repeat);
    expect(remediation.verifyAfterMinutes).toBe(config.verifyAfterMinutes);
    expect(rollback).toEqual(remediation);
    expect(killSwitch).toEqual(remediation);
  });

  it('schedule into the verify group, passing the role that may invoke the verifier', () => {
    expect(remediation.verifier?.scheduleGroup).toBe('fa-ai-system-prod-verify');
    expect(remediation.verifier?.functionArn).toMatch(/^arn:aws:lambda:us-east-1:\d{12}:function:/);
    expect(remediation.verifier?.roleArn).toMatch(/^arn:aws:iam::\d{12}:role\//);
    const group = resources.find(
      (x) => x.Type === 'AWS::Scheduler::ScheduleGroup' && x.Properties.Name === 'fa-ai-system-prod-verify',
    );
    expect(group).toBeDefined();
  });

  it('give the verifier its topics and table but no schedule of its own', () => {
    expect(verifier.verifier).toBeUndefined();
    expect(verifier.topics).toEqual(remediation.topics);
    expect(verifier.opsTableName).toBe(remediation.opsTableName);
  });

  it('let only EventBridge Scheduler of this account assume the scheduler role', () => {
    const roles = resources.filter(
      (x) =>
        x.Type === 'AWS::IAM::Role' &&
        JSON.stringify(x.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com') &&
        String(x.Properties.Description ?? '').includes('verifications'),
    );
    expect(roles).toHaveLength(1);
    const [statement] = roles[0]?.Properties.AssumeRolePolicyDocument.Statement ?? [];
    expect(statement.Condition.StringEquals['aws:SourceAccount']).toBeDefined();
  });

  it('watch the verifier in prod (errors and dead-letter queue), not in dev', () => {
    const names = resources
      .filter((x) => x.Type === 'AWS::CloudWatch::Alarm')
      .map((x) => String(x.Properties.AlarmName));
    expect(names).toEqual(
      expect.arrayContaining([
        'fa-ai-system-prod-lambda-automation-verify-errors',
        'fa-ai-system-prod-lambda-automation-verify-dlq',
      ]),
    );
    expect(loadEnvironmentConfig('dev').automation.watchVerifier).toBe(false);
  });
});
