import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../../core/contracts/spend-guard';
import {
  ENVIRONMENT_NAMES,
  ENVIRONMENTS,
  loadEnvironmentConfig,
  parseEnvironmentConfig,
} from '../../lib/config';
import { GET_METRIC_DATA_METRICS_METADATA } from '../../lib/naming';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;
let prod: Template;

beforeAll(async () => {
  synth = await sharedSynth();
  prod = synth.template('prod', 'service');
});

/** The spend guard's function of an environment's service stack. */
function guardFunction(template: Template): { id: string; resource: any } {
  const found = Object.entries(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'spend-guard' } } },
    }),
  );
  expect(found).toHaveLength(1);
  const [id, resource] = found[0] as [string, any];
  return { id, resource };
}

/** The statements of the spend guard role's policy. */
function guardStatements(template: Template): any[] {
  const { resource } = guardFunction(template);
  const role = resource.Properties.Role['Fn::GetAtt'][0];
  const [policy] = Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
  );
  return (policy as any).Properties.PolicyDocument.Statement;
}

describe('spend guard', () => {
  it('runs every 15 minutes from EventBridge Scheduler with the scheduled time and execution id', () => {
    const { id } = guardFunction(prod);
    prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [id, 'Arn'] },
        Input: JSON.stringify({
          scheduledTime: '<aws.scheduler.scheduled-time>',
          executionId: '<aws.scheduler.execution-id>',
        }),
        RetryPolicy: { MaximumEventAgeInSeconds: 900, MaximumRetryAttempts: 0 },
      }),
    });
  });

  it('runs one at a time, retried twice, with a dead-letter queue', () => {
    const { id, resource } = guardFunction(prod);
    expect(resource.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(resource.Properties.DeadLetterConfig.TargetArn['Fn::GetAtt'][0]).toMatch(
      /^SpendGuardHandlerDeadLetterQueue/,
    );
    prod.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 2,
    });
  });

  it.each(ENVIRONMENT_NAMES)("gets %s's budgets from lib/config, as the Budgets path does", (envName) => {
    const config = loadEnvironmentConfig(envName);
    const variables = guardFunction(synth.template(envName, 'service')).resource.Properties.Environment
      .Variables;
    const budgets = JSON.parse(variables.BUDGETS);
    expect(budgets).toEqual([
      {
        id: 'batch',
        limitUsd: config.budgets.componentsUsd.batch,
        awsBudgetName: `fa-ai-system-${envName}-batch`,
      },
      {
        id: 'interactive',
        limitUsd: config.budgets.componentsUsd.interactive,
        awsBudgetName: `fa-ai-system-${envName}-interactive`,
      },
      {
        id: 'infrastructure',
        limitUsd: config.budgets.componentsUsd.infrastructure,
        awsBudgetName: `fa-ai-system-${envName}-infrastructure`,
      },
      { id: 'total', limitUsd: config.budgets.monthlyUsd, awsBudgetName: `fa-ai-system-${envName}-monthly` },
    ]);
    // The AWS budgets it reads are the ones the stack creates.
    const names = Object.values(synth.template(envName, 'service').findResources('AWS::Budgets::Budget')).map(
      (b: any) => b.Properties.Budget.BudgetName,
    );
    expect(names.sort()).toEqual(budgets.map((b: { awsBudgetName: string }) => b.awsBudgetName).sort());
    expect(variables.KILL_SWITCH_PERCENT).toBe(String(config.budgets.killSwitchPercent));
  });

  it('sends email to P3, chat to P2 and pages (and kill switch reports) to P1', () => {
    const variables = guardFunction(prod).resource.Properties.Environment.Variables;
    expect(variables.EMAIL_TOPIC_ARN).toEqual({ Ref: expect.stringMatching(/^AlertsP3/) });
    expect(variables.CHAT_TOPIC_ARN).toEqual({ Ref: expect.stringMatching(/^AlertsP2/) });
    expect(variables.PAGE_TOPIC_ARN).toEqual({ Ref: expect.stringMatching(/^AlertsP1/) });
  });

  it('may read the four budgets, the metrics, and the spend partitions of the ops table', () => {
    const statements = guardStatements(prod);
    const budgets = statements.filter((s) => s.Action === 'budgets:ViewBudget');
    expect(budgets).toHaveLength(1);
    const resources = JSON.stringify(budgets[0].Resource);
    expect(budgets[0].Resource).toHaveLength(4);
    for (const name of ['batch', 'interactive', 'infrastructure', 'monthly']) {
      expect(resources).toContain(`:budgets::222222222222:budget/fa-ai-system-prod-${name}`);
    }
    // CDK merges it with X-Ray's into one statement on *.
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['cloudwatch:GetMetricData']),
        Resource: '*',
      }),
    );
    const leadingKeys = statements
      .map((s) => s.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'])
      .filter((k) => k !== undefined);
    expect(leadingKeys).toEqual(
      expect.arrayContaining([['KILL_SWITCH', 'AUDIT'], ['SPEND_ALERT', 'SPEND_GUARD'], ['BATCH_RUN']]),
    );
  });

  it('records how many metrics a run requests, for the cost estimate', () => {
    // 6 allowed series x 4 statistics for the month, 6 + 3 QueryCount tiers for the silence check.
    expect(guardFunction(prod).resource.Metadata[GET_METRIC_DATA_METRICS_METADATA]).toBe(33);
  });

  it('puts the spend settings batch enable needs into the ops manifest', () => {
    const manifest = JSON.stringify(prod.toJSON().Outputs.OpsManifest.Value);
    for (const key of ['killSwitchPercent', 'maxCallCostUsd', 'awsSettleHours', 'fa-ai-system-prod-batch']) {
      expect(manifest, key).toContain(key);
    }
  });

  it('fails synth on a schedule longer than 15 minutes or kill-switch budgets without the total, naming the field', () => {
    const prodWith = (guard: object) => () =>
      parseEnvironmentConfig('prod', { ...ENVIRONMENTS.prod, spend: { guard } });
    expect(prodWith({ scheduleMinutes: 16 })).toThrow(/spend\.guard\.scheduleMinutes: must be at most 15/);
    expect(prodWith({ killSwitchBudgets: ['batch'] })).toThrow(
      /spend\.guard\.killSwitchBudgets: must include total/,
    );
    expect(prodWith({ scheduleMinutes: 15, lateDataMinutes: 10 })).toThrow(
      /spend\.guard\.lateDataMinutes: must be 0 or at least scheduleMinutes/,
    );
  });

  it("the handler's parser names each missing variable", () => {
    expect(() => parse({})).toThrow(/ENVIRONMENT: is required/);
  });
});
