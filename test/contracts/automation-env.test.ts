import { beforeAll, describe, expect, it } from 'vitest';
import { type AutomationSettings, automationVariable } from '../../core/contracts/automation';
import { loadEnvironmentConfig } from '../../lib/config';
import { sharedSynth } from '../helpers/synth';
import { deployedProd } from './deployed-env';

// The AUTOMATION variable of every acting Lambda as deployed in prod, through the contracts'
// parser, and what it points at: the verifier, the schedule group and the scheduler role.
let remediation: AutomationSettings;
let rollback: AutomationSettings;
let verifier: AutomationSettings;
let killSwitch: AutomationSettings;
let resources: Array<Record<string, any>>;

const settingsOf = (env: Record<string, unknown>) => automationVariable.parser.parse(env.AUTOMATION);

beforeAll(async () => {
  const synth = await sharedSynth();
  const of = (name: string) => deployedProd(synth, (v) => v.POWERTOOLS_SERVICE_NAME === name);
  const r = of('remediation');
  remediation = settingsOf(r.env);
  rollback = settingsOf(of('traffic-rollback').env);
  verifier = settingsOf(of('automation-verify').env);
  killSwitch = settingsOf(of('budget-guard').env);
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

  it('watch the verifier (errors and dead-letter queue) through the alarm catalogue', () => {
    const names = resources
      .filter((x) => x.Type === 'AWS::CloudWatch::Alarm')
      .map((x) => String(x.Properties.AlarmName));
    expect(names).toEqual(
      expect.arrayContaining([
        'fa-ai-system-prod-lambda-automation-verify-errors',
        'fa-ai-system-prod-lambda-automation-verify-dlq',
      ]),
    );
  });
});
