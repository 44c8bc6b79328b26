import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { BAKE_POLL_SECONDS } from '../../lib/constructs/traffic-shifter';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;
let prod: Template;
let shift: any;

/** A state machine's definition by name, with CloudFormation tokens replaced by "<token>". */
function definitionOf(template: Template, name: string): any {
  const [machine] = Object.values(
    template.findResources('AWS::StepFunctions::StateMachine', { Properties: { StateMachineName: name } }),
  );
  const body = (machine as any).Properties.DefinitionString;
  const parts = body['Fn::Join'][1] as unknown[];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : '<token>')).join(''));
}

beforeAll(async () => {
  synth = await sharedSynth();
  prod = synth.template('prod', 'service');
  shift = definitionOf(prod, 'fa-ai-system-traffic-shift');
});

describe('traffic shift state machine', () => {
  it('begins (lock, plan) and does nothing when the target colour already has all traffic', () => {
    expect(shift.StartAt).toBe('Defaults');
    expect(shift.States.Defaults.Parameters.defaults).toMatchObject({ steps: [10, 50, 100] });
    expect(shift.States.Defaults.Next).toBe('ApplyDefaults');
    expect(shift.States.ApplyDefaults.Next).toBe('Begin');
    expect(shift.States.Begin.Parameters).toMatchObject({
      action: 'begin',
      'to.$': '$.to',
      'steps.$': '$.steps',
    });
    expect(shift.States['AlreadyThere?'].Choices[0]).toMatchObject({
      Variable: '$.shift.noop',
      BooleanEquals: true,
    });
  });

  it('walks the plan one step at a time', () => {
    expect(shift.States.Steps).toMatchObject({ Type: 'Map', ItemsPath: '$.shift.plan', MaxConcurrency: 1 });
  });

  it('checks the alarms before each step and while it bakes', () => {
    const inner = shift.States.Steps.ItemProcessor ?? shift.States.Steps.Iterator;
    expect(inner.StartAt).toBe('CheckBeforeStep');
    expect(inner.States.CheckBeforeStep.Parameters).toMatchObject({ action: 'checkAlarms' });
    expect(inner.States['HealthyBeforeStep?'].Choices[0]).toMatchObject({
      Variable: '$.gate.healthy',
      BooleanEquals: false,
      Next: 'AlarmFiring',
    });
    expect(inner.States.SetWeights.Parameters).toMatchObject({ action: 'setWeights' });
    expect(inner.States.Bake).toMatchObject({
      Type: 'Wait',
      Seconds: BAKE_POLL_SECONDS,
      Next: 'CheckDuringBake',
    });
    expect(inner.States['HealthyDuringBake?'].Choices[0].Next).toBe('AlarmFiring');
    expect(inner.States['BakeDone?'].Choices[0]).toMatchObject({
      Variable: '$.bake.remaining',
      NumericLessThanEquals: 0,
    });
  });

  it('rolls back to the previous weights on any failure of a step, then fails', () => {
    expect(shift.States.Steps.Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Rollback' }),
    ]);
    expect(shift.States.Rollback.Parameters).toMatchObject({
      action: 'rollback',
      'from.$': '$.shift.from',
    });
    expect(shift.States.Rollback.Next).toBe('RolledBack');
    expect(shift.States.RolledBack.Type).toBe('Fail');
  });

  it('finishes with the last step of the plan', () => {
    expect(shift.States.Steps.Next).toBe('Finish');
    expect(shift.States.Finish.Parameters['weights.$']).toContain('States.ArrayGetItem($.shift.plan');
  });

  it('gates on the P0 and each colour alarm, which the shift Lambda may read', () => {
    prod.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Traffic shift steps'),
      Environment: {
        Variables: Match.objectLike({
          WEIGHTS_PARAMETER: '/fa-ai-system/prod/traffic/weights',
          ALARMS_JSON: Match.anyValue(),
        }),
      },
    });
  });

  it('may modify only its listener and write only the weights parameter', () => {
    const statements = Object.values(
      prod.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^TrafficShifterShiftHandler') }] },
      }),
    ).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const modify = statements.find((s) => [s.Action].flat().includes('elasticloadbalancing:ModifyListener'));
    expect(modify?.Resource).toEqual({ Ref: expect.stringMatching(/^ServiceLoadBalancerHttpsListener/) });
    const ssm = statements.find((s) => [s.Action].flat().includes('ssm:PutParameter'));
    expect(JSON.stringify(ssm?.Resource)).toContain('parameter/fa-ai-system/prod/traffic/weights');
  });
});

describe('automatic rollback', () => {
  it('runs when the P0 composite alarm enters ALARM', () => {
    prod.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ObservabilityP0'), 'Arn'] }],
        detail: { state: { value: ['ALARM'] } },
      },
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: Match.anyValue() })],
    });
  });

  it('knows its window and cool-down, and runs one at a time', () => {
    prod.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Automatic rollback'),
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({ ROLLBACK_WINDOW_MINUTES: '60', ROLLBACK_COOLDOWN_MINUTES: '30' }),
      },
    });
  });
});

describe('health check', () => {
  it('runs the morning check daily at 09:00 in the configured time zone and a light check every 5 minutes', () => {
    prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 9 * * ? *)',
      ScheduleExpressionTimezone: 'America/New_York',
      Target: Match.objectLike({ Input: '{"check":"morning"}' }),
    });
    prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: Match.objectLike({ Input: '{"check":"light"}' }),
    });
  });

  it('alarms when its heartbeat goes missing (missing data breaches)', () => {
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'fa-ai-system-prod-health-check-heartbeat',
      MetricName: 'Heartbeat',
      Namespace: 'FA-AI-System/Automation',
      TreatMissingData: 'breaching',
      AlarmDescription: Match.stringLikeRegexp('^P2 '),
    });
  });

  function healthCheckStatements(): any[] {
    return Object.values(
      prod.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^HealthCheckHandler') }] },
      }),
    ).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  }

  it('may describe only the two services', () => {
    const describe = healthCheckStatements().find((s) => [s.Action].flat().includes('ecs:DescribeServices'));
    expect(describe?.Resource).toHaveLength(2);
  });

  it('may write only its own alert item in the ops table (partition HEALTH)', () => {
    const writes = healthCheckStatements().filter((s) =>
      [s.Action].flat().some((a: string) => /^dynamodb:(Put|Delete|Update)/.test(a)),
    );
    expect(writes).toHaveLength(1);
    expect([writes[0]?.Action].flat().sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    ]);
    expect(writes[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['HEALTH'] },
    });
  });

  it('sends the same light-check problem again after 60 minutes (config)', () => {
    prod.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Runbook Morning Health Check'),
      Environment: { Variables: Match.objectLike({ LIGHT_RENOTIFY_MINUTES: '60' }) },
    });
  });
});

describe('ops manifest', () => {
  it('gives the ops CLI every name and ARN in one output', () => {
    const outputs = synth.templateJson('prod', 'service').Outputs as Record<string, any>;
    const value = outputs.OpsManifest?.Value;
    const text = JSON.stringify(value);
    for (const key of [
      'listenerArn',
      'weightsParameter',
      'shiftStateMachineArn',
      'opsTable',
      'alarms',
      'killSwitchBudgetName',
      'targetGroups',
    ]) {
      expect(text, key).toContain(key);
    }
  });
});

describe('remediation', () => {
  it('receives every alarm of the environment that enters ALARM', () => {
    prod.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: 'fa-ai-system-prod-' }], state: { value: ['ALARM'] } },
      },
    });
  });

  it('gets its per-action switches, rate limits and bounds from config', () => {
    prod.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Alarm-driven remediation'),
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          MAX_COUNTS: '{"blue":10,"green":10}',
          REMEDIATION: JSON.stringify({
            dryRun: false,
            actions: {
              'force-new-deployment': { enabled: true, maxPerHour: 2 },
              'scale-out': { enabled: true, maxPerHour: 3, step: 1 },
            },
          }),
        }),
      },
    });
  });

  function remediationStatements(): any[] {
    return Object.values(
      prod.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^RemediationHandler') }] },
      }),
    ).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  }

  it('may update only the two services', () => {
    const update = remediationStatements().find((s) => [s.Action].flat().includes('ecs:UpdateService'));
    expect(update?.Resource).toHaveLength(2);
  });

  it('may read the ops table (the shift lock, the rate counters, the automation pause) but not delete from it', () => {
    const actions = remediationStatements().flatMap((s) =>
      [s.Action].flat().filter((a: string) => a.startsWith('dynamodb:')),
    );
    expect([...new Set(actions)].sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    const reads = remediationStatements().filter((s) => [s.Action].flat().includes('dynamodb:GetItem'));
    expect(
      reads.flatMap((s) => s.Condition['ForAllValues:StringEquals']['dynamodb:LeadingKeys']).sort(),
    ).toEqual(['AUTOMATION', 'REMEDIATION_RATE', 'TRAFFIC']);
    // The repeat guard counts only the automation's action records.
    const queries = remediationStatements().filter((s) => [s.Action].flat().includes('dynamodb:Query'));
    expect(queries.flatMap((s) => s.Condition['ForAllValues:StringEquals']['dynamodb:LeadingKeys'])).toEqual([
      'AUTOMATION_ACTION',
    ]);
  });
});
