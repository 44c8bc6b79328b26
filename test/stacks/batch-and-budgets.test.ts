import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, sharedSynth } from '../helpers/synth';

let synth: Synthesized;
let prod: Template;
let prodStateful: Template;
let definition: any;

/** The state machine's definition, with CloudFormation tokens replaced by "<token>". */
function stateMachineDefinition(template: Template): any {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const body = machine?.Properties.DefinitionString;
  const text =
    typeof body === 'string'
      ? body
      : (body['Fn::Join'][1] as unknown[])
          .map((part) => (typeof part === 'string' ? part : '<token>'))
          .join('');
  return JSON.parse(text);
}

beforeAll(async () => {
  synth = await sharedSynth();
  prod = synth.template('prod', 'service');
  prodStateful = synth.template('prod', 'stateful');
  definition = stateMachineDefinition(prod);
});

describe('batch task', () => {
  it("runs the runbook's batch command with the service image, sized by config", () => {
    prod.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'fa-ai-system-batch',
      Cpu: '1024',
      Memory: '2048',
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'batch',
          Command: ['python', 'src/batch/run_batch_phase2.py', '--concurrent', '--max-concurrent', '100'],
          Image: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':v1.0.0'])]) }),
          Secrets: Match.arrayWith([
            Match.objectLike({ Name: 'DB_PASSWORD' }),
            Match.objectLike({ Name: 'REDIS_AUTH_TOKEN' }),
          ]),
          LogConfiguration: Match.objectLike({
            Options: Match.objectLike({ 'awslogs-stream-prefix': 'batch' }),
          }),
        }),
      ],
    });
    prod.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/ecs/fa-ai-system-batch' });
  });

  it('lets the task touch only its run records and its metric namespace', () => {
    const [taskRolePolicy] = Object.values(
      prod.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^BatchTaskDefinitionTaskRole') }] },
      }),
    );
    expect(taskRolePolicy?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:UpdateItem',
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['BATCH_RUN'] } },
      }),
      expect.objectContaining({
        Action: 'cloudwatch:PutMetricData',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'FA-AI-System' } },
      }),
    ]);
  });
});

describe('batch state machine', () => {
  it('records the run, runs the task to completion and records success', () => {
    expect(definition.StartAt).toBe('RecordStart');
    expect(definition.States.RecordStart).toMatchObject({
      Resource: expect.stringContaining(':dynamodb:putItem'),
      Next: 'RunBatch',
    });
    expect(definition.States.RunBatch).toMatchObject({
      Resource: expect.stringContaining(':ecs:runTask.sync'),
      Next: 'RecordSucceeded',
    });
    expect(definition.States.RecordSucceeded.Parameters.ExpressionAttributeValues[':status']).toEqual({
      S: 'SUCCEEDED',
    });
  });

  it("stops a run past the runbook's 4 hours and does not retry it", () => {
    expect(definition.States.RunBatch.TimeoutSeconds).toBe(4 * 3600);
    // Both attempts at their limit, the 5-minute backoff and 15 minutes to record the outcome.
    expect(definition.TimeoutSeconds).toBe((240 + 5 + 240 + 15) * 60);
    expect(definition.States.RunBatch.Catch[0]).toMatchObject({
      ErrorEquals: ['States.Timeout'],
      Next: 'RecordTimedOut',
    });
    for (const retry of definition.States.RunBatch.Retry ?? [])
      expect(retry.ErrorEquals).not.toContain('States.Timeout');
  });

  it('retries a failed run per config, then records, notifies and fails', () => {
    expect(definition.States.RunBatch.Retry).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 1, IntervalSeconds: 300 }),
    ]);
    expect(definition.States.RunBatch.Catch[1]).toMatchObject({
      ErrorEquals: ['States.ALL'],
      Next: 'RecordFailed',
    });
    expect(definition.States.RecordFailed.Next).toBe('NotifyFailed');
    expect(definition.States.NotifyFailed).toMatchObject({
      Resource: expect.stringContaining(':sns:publish'),
      Next: 'Failed',
    });
    expect(definition.States.Failed.Type).toBe('Fail');
    expect(definition.States.RecordTimedOut.Next).toBe('NotifyTimedOut');
  });

  it('hands the run record key to the task so it can report stocks processed', () => {
    const env = definition.States.RunBatch.Parameters.Overrides.ContainerOverrides[0].Environment;
    expect(env.map((e: { Name: string }) => e.Name)).toEqual(['BATCH_RUN_ID', 'BATCH_RUN_SK']);
  });

  it('logs and traces executions', () => {
    prod.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'fa-ai-system-weekly-batch',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
  });

  it.each([
    ['ExecutionsFailed', 'failed'],
    ['ExecutionsTimedOut', 'stopped'],
  ])('alarms on %s to the P2 topic', (metric, words) => {
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: metric,
      Namespace: 'AWS/States',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmDescription: Match.stringLikeRegexp(`^P2 .*${words}`),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlertsP2') }],
    });
  });
});

describe('batch schedule', () => {
  it("starts the state machine on Sunday 00:00 (the runbook's 02:00, moved for DST) in the configured time zone", () => {
    prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'fa-ai-system-weekly-batch',
      ScheduleExpression: 'cron(0 0 ? * SUN *)',
      ScheduleExpressionTimezone: 'America/New_York',
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('^BatchStateMachine') },
        Input: '{"trigger":"schedule"}',
      }),
    });
  });

  it('takes its state from the live SSM parameter the kill switch writes, not from the template', () => {
    prod.hasResourceProperties('AWS::Scheduler::Schedule', { State: { Ref: 'BatchScheduleStateParameter' } });
    prod.templateMatches({
      Parameters: {
        BatchScheduleStateParameter: {
          Type: 'AWS::SSM::Parameter::Value<String>',
          Default: '/fa-ai-system/prod/batch/schedule-state',
        },
      },
    });
    const [seed] = Object.values(prodStateful.findResources('Custom::AWS')).filter((r) =>
      String(r.Properties.Create).includes('schedule-state'),
    );
    expect(JSON.parse(seed?.Properties.Create).parameters).toMatchObject({
      Value: 'ENABLED',
      Overwrite: false,
    });
  });
});

describe('budgets', () => {
  const monthly = () =>
    Object.values(prod.findResources('AWS::Budgets::Budget')).find(
      (b) => b.Properties.Budget.BudgetName === 'fa-ai-system-prod-monthly',
    )?.Properties;

  it('budgets $2,000 a month in prod', () => {
    expect(monthly()?.Budget).toMatchObject({
      BudgetType: 'COST',
      TimeUnit: 'MONTHLY',
      BudgetLimit: { Amount: 2000, Unit: 'USD' },
    });
  });

  it('notifies on ACTUAL spend at 50% by email, 75% to chat, 90% to the pager and 100% to the kill switch', () => {
    const notifications = monthly()?.NotificationsWithSubscribers as any[];
    const at = (type: string, threshold: number) =>
      notifications.find(
        (n) => n.Notification.NotificationType === type && n.Notification.Threshold === threshold,
      );
    expect(at('ACTUAL', 50)?.Subscribers).toEqual([
      { SubscriptionType: 'EMAIL', Address: 'manager@example.com' },
      { SubscriptionType: 'EMAIL', Address: 'fa-ai-oncall@example.com' },
    ]);
    expect(JSON.stringify(at('ACTUAL', 75)?.Subscribers)).toContain('AlertsP2');
    expect(JSON.stringify(at('ACTUAL', 90)?.Subscribers)).toContain('AlertsP1');
    expect(JSON.stringify(at('ACTUAL', 100)?.Subscribers)).toContain('BudgetGuardKillSwitchTopic');
    expect(JSON.stringify(at('FORECASTED', 100)?.Subscribers)).toContain('AlertsP2');
    for (const n of notifications)
      expect(n.Notification).toMatchObject({
        ComparisonOperator: 'GREATER_THAN',
        ThresholdType: 'PERCENTAGE',
      });
  });

  it.each([
    ['batch', 1200],
    ['interactive', 600],
    ['infrastructure', 200],
  ])('budgets the %s component at $%d by cost-allocation tag', (component, amount) => {
    prod.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({
        BudgetName: `fa-ai-system-prod-${component}`,
        BudgetLimit: { Amount: amount, Unit: 'USD' },
        CostFilters: { TagKeyValue: [`user:Component$${component}`, 'user:Environment$prod'] },
      }),
    });
  });

  it("lets only this account's budgets publish to the kill switch topic", () => {
    prod.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: Match.stringLikeRegexp('^BudgetGuardKillSwitchTopic') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'budgets.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: { 'aws:SourceAccount': '222222222222' },
              ArnLike: { 'aws:SourceArn': 'arn:aws:budgets::222222222222:*' },
            },
          }),
        ]),
      },
    });
  });

  it('encrypts the topics with a key that Budgets and CloudWatch may use', () => {
    prod.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'fa-ai-system-prod-budget-kill-switch',
      KmsMasterKeyId: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertsKey'), 'Arn'] }),
    });
    const [key] = Object.values(prod.findResources('AWS::KMS::Key'));
    const servicesAllowed = ((key as any).Properties.KeyPolicy.Statement as any[])
      .filter((st) => [st.Action].flat().includes('kms:GenerateDataKey*'))
      .flatMap((st) => [st.Principal?.Service].flat());
    expect(servicesAllowed).toEqual(
      expect.arrayContaining(['budgets.amazonaws.com', 'cloudwatch.amazonaws.com']),
    );
  });
});

describe('kill switch Lambda', () => {
  it('is subscribed to the kill switch topic', () => {
    prod.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: Match.stringLikeRegexp('^BudgetGuardKillSwitchTopic') },
    });
  });

  it('knows the one budget it may act on and everything it must stop', () => {
    prod.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('kill switch'),
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          KILL_SWITCH_BUDGET_NAME: 'fa-ai-system-prod-monthly',
          KILL_THRESHOLD_PERCENT: '100',
          BATCH_SCHEDULE_NAME: { Ref: Match.stringLikeRegexp('^BatchSchedule') },
          BATCH_SCHEDULE_STATE_PARAMETER: '/fa-ai-system/prod/batch/schedule-state',
          BATCH_TASK_FAMILY: 'fa-ai-system-batch',
        }),
      },
    });
  });

  it('sends failed invocations to a dead-letter queue whose depth pages (P1)', () => {
    prod.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [Match.stringLikeRegexp('^BudgetGuardHandlerDeadLetterQueue'), 'QueueName'],
          },
        },
      ],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlertsP1') }],
    });
  });

  it('may stop only the batch: its schedule, its executions, tasks in its cluster', () => {
    const policies = Object.values(
      prod.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^BudgetGuardHandlerFunctionServiceRole') }] },
      }),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const byAction = (action: string) => statements.find((s) => [s.Action].flat().includes(action));
    expect(byAction('scheduler:UpdateSchedule')?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^BatchSchedule/), 'Arn'],
    });
    expect(JSON.stringify(byAction('states:StopExecution')?.Resource)).toContain(':execution:');
    expect(byAction('ecs:StopTask')?.Condition).toEqual({ ArnEquals: { 'ecs:cluster': expect.anything() } });
    expect(JSON.stringify(byAction('ssm:PutParameter')?.Resource)).toContain(
      'parameter/fa-ai-system/prod/batch/schedule-state',
    );
    // The batch schedule's role (UpdateSchedule), and the verification schedules' role to
    // Scheduler only (core/automation): no other role.
    const passed = statements.filter((s) => [s.Action].flat().includes('iam:PassRole'));
    expect(passed.map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^AutomationSchedulerRole/), 'Arn'] },
      { 'Fn::GetAtt': [expect.stringMatching(/^BatchScheduleRole/), 'Arn'] },
    ]);
    expect(passed[0]?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    });
  });
});

describe('alert routing', () => {
  it('pages P0 and P1, posts P1 and P2 to chat, and emails P3', () => {
    const subs = Object.values(prod.findResources('AWS::SNS::Subscription')).map((s) => s.Properties);
    const to = (severity: string) =>
      subs
        .filter((s) => JSON.stringify(s.TopicArn).includes(`Alerts${severity}`))
        .map((s) => `${s.Protocol}:${s.Endpoint}`);
    expect(to('P0')).toEqual(
      expect.arrayContaining([
        'https:https://events.pagerduty.com/integration/fa-ai-prod/enqueue',
        'email:manager@example.com',
      ]),
    );
    expect(to('P1')).toEqual([
      'https:https://events.pagerduty.com/integration/fa-ai-prod/enqueue',
      'https:https://hooks.example.com/services/fa-ai-prod',
    ]);
    expect(to('P2')).toEqual(['https:https://hooks.example.com/services/fa-ai-prod']);
    expect(to('P3')).toEqual(['email:manager@example.com', 'email:fa-ai-oncall@example.com']);
  });
});
