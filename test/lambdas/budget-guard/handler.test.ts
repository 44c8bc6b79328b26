import 'aws-sdk-client-mock-vitest/extend';
import { ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HandlerDeps, handleEvent } from '../../../lambdas/budget-guard/handler';
import { KillSwitchIncompleteError, KillSwitchNotEngagedError } from '../../../lambdas/budget-guard/logic';
import { InvalidInputError } from '../../../lambdas/shared/errors';
import { checkDeclaredCalls } from '../../iam/declared-calls';
import {
  ACTUAL_90,
  ACTUAL_100,
  ACTUAL_100_PERCENT_THRESHOLD,
  BUDGET_NAME,
  FORECASTED_100,
  GARBAGE,
  MISSING_BUDGETED_AMOUNT,
  OTHER_BUDGET_100,
  snsEvent,
} from './fixtures';
import {
  ALERT_TOPIC_ARN,
  awsError,
  conditionalCheckFailed,
  ENV,
  executionArn,
  expectedScheduleUpdate,
  metricValue,
  mocks,
  NO_SLEEP,
  observability,
  RoundTripTracker,
  resetMocks,
  STATE_MACHINE_ARN,
  taskArn,
  clients as testClients,
} from './harness';

checkDeclaredCalls('budget-guard');

const NOW = new Date('2026-11-25T04:12:35.000Z');
const ATTEMPT_ID = '5b0e8f1c-2a7d-4c3e-9f61-0d2b7a9e4c18';

let obs: ReturnType<typeof observability>;

function deps(overrides: Partial<HandlerDeps> = {}): HandlerDeps {
  return {
    clients: testClients,
    env: ENV,
    now: () => NOW,
    newId: () => ATTEMPT_ID,
    retry: NO_SLEEP,
    observability: { logger: obs.logger, metrics: obs.metrics },
    ...overrides,
  };
}

/** Calls that change something (reads and the human alert excluded). */
function mutations(): number {
  return (
    mocks.ddb.commandCalls(TransactWriteCommand).length +
    mocks.ddb.commandCalls(UpdateCommand).length +
    mocks.scheduler.commandCalls(UpdateScheduleCommand).length +
    mocks.ssm.commandCalls(PutParameterCommand).length +
    mocks.sfn.commandCalls(StopExecutionCommand).length +
    mocks.ecs.commandCalls(StopTaskCommand).length
  );
}

function publishedMessages(): Array<{ Subject?: string; Message?: string; TopicArn?: string }> {
  return mocks.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
}

beforeEach(() => {
  resetMocks();
  obs = observability();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a 100% ACTUAL notification of the kill switch budget', () => {
  it('records, disables the schedule and its parameter, stops the work and tells humans', async () => {
    const results = await handleEvent(snsEvent(ACTUAL_100), deps());

    expect(results).toEqual([
      expect.objectContaining({
        outcome: 'engaged',
        attemptId: ATTEMPT_ID,
        engagedAt: NOW.toISOString(),
        scheduleStateBefore: 'ENABLED',
        stoppedExecutions: [executionArn(0)],
        stoppedTasks: [taskArn(0), taskArn(1)],
      }),
    ]);

    // Round 1: the conditional record and the reads.
    expect(mocks.ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    const tx = mocks.ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input;
    expect(tx?.ClientRequestToken).toBe(ATTEMPT_ID);
    expect(tx?.TransactItems?.[0]?.Put).toEqual({
      TableName: ENV.OPS_TABLE_NAME,
      Item: {
        pk: 'KILL_SWITCH',
        sk: 'STATE',
        engaged: true,
        complete: true,
        engagedAt: NOW.toISOString(),
        engagedBy: 'budget-guard',
        reason: `Budget ${BUDGET_NAME}: actual $2,001.37 >= 100% of budgeted $2,000.00 ($2,000.00)`,
        source: 'budget-guard',
        budgetName: BUDGET_NAME,
        actualAmount: 2001.37,
        budgetedAmount: 2000,
        messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
        attemptId: ATTEMPT_ID,
      },
      ConditionExpression: 'attribute_not_exists(pk) OR #engaged = :false OR #complete = :false',
      ExpressionAttributeNames: { '#engaged': 'engaged', '#complete': 'complete' },
      ExpressionAttributeValues: { ':false': false },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    const audit = tx?.TransactItems?.[1]?.Put;
    expect(audit?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(audit?.Item).toMatchObject({
      pk: 'AUDIT',
      sk: expect.stringMatching(/^2026-11-25T04:12:35\.000Z#[0-9a-f]{8}$/),
      action: 'kill-switch-engage',
      actor: 'budget-guard',
      source: 'budget-guard',
      outcome: 'ok',
      environment: 'prod',
      details: {
        budgetName: BUDGET_NAME,
        actualAmount: 2001.37,
        budgetedAmount: 2000,
        thresholdAmount: 2000,
        messageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
      },
    });
    expect(mocks.scheduler).toHaveReceivedCommandWith(GetScheduleCommand, {
      Name: ENV.BATCH_SCHEDULE_NAME,
      GroupName: 'default',
    });
    expect(mocks.sfn).toHaveReceivedCommandWith(ListExecutionsCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      statusFilter: 'RUNNING',
    });
    expect(mocks.ecs).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: ENV.ECS_CLUSTER,
      family: ENV.BATCH_TASK_FAMILY,
      desiredStatus: 'RUNNING',
    });

    // Round 2: the actions; the schedule keeps its whole definition.
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
    expect(mocks.scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).toEqual(
      expectedScheduleUpdate('DISABLED'),
    );
    expect(mocks.ssm).toHaveReceivedCommandExactlyOnceWith(PutParameterCommand, {
      Name: ENV.BATCH_SCHEDULE_STATE_PARAMETER,
      Value: 'DISABLED',
      Overwrite: true,
    });
    expect(mocks.sfn).toHaveReceivedCommandExactlyOnceWith(StopExecutionCommand, {
      executionArn: executionArn(0),
      error: 'BudgetKillSwitch',
      cause: expect.stringContaining('actual $2,001.37 >= 100% of budgeted $2,000.00'),
    });
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 2);
    for (const task of [taskArn(0), taskArn(1)]) {
      expect(mocks.ecs).toHaveReceivedCommandWith(StopTaskCommand, {
        cluster: ENV.ECS_CLUSTER,
        task,
        reason: expect.stringContaining('Budget kill switch (prod)'),
      });
    }
    const [summary, ...others] = publishedMessages();
    expect(others).toEqual([]);
    expect(summary?.TopicArn).toBe(ALERT_TOPIC_ARN);
    expect(summary?.Subject).toBe(
      '[prod] Budget kill switch ENGAGED: batch disabled ($2,001.37 of $2,000.00)',
    );
    expect(summary?.Message).toContain(
      `Budget ${BUDGET_NAME}: ACTUAL cost $2,001.37 of budgeted $2,000.00 reached the kill threshold $2,000.00 (100%)`,
    );
    expect(summary?.Message).toContain('schedule default/fa-ai-system-prod-weekly-batch: set to DISABLED');
    expect(summary?.Message).toContain(
      `SSM parameter ${ENV.BATCH_SCHEDULE_STATE_PARAMETER}: set to DISABLED`,
    );
    expect(summary?.Message).toContain('Step Functions executions stopped: 1 (weekly-2026-11-22-0)');
    expect(summary?.Message).toContain(
      'ECS batch tasks stopped (fa-ai-system-prod, family fa-ai-system-prod-batch): 2',
    );
    expect(summary?.Message).toContain('npm run ops -- batch enable');

    // No round 3.
    expect(mocks.ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(metricValue(obs.emf, 'KillSwitchEngaged')).toBe(1);
    expect(metricValue(obs.emf, 'ExecutionsStopped')).toBe(1);
    expect(metricValue(obs.emf, 'TasksStopped')).toBe(2);
  });

  it('engages on a percentage-style threshold too', async () => {
    const [result] = await handleEvent(snsEvent(ACTUAL_100_PERCENT_THRESHOLD), deps());
    expect(result?.outcome).toBe('engaged');
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
  });

  it('keeps the reason given to ECS within its 255 characters', async () => {
    const longName = `${BUDGET_NAME}-${'x'.repeat(300)}`;
    await handleEvent(
      snsEvent(ACTUAL_100.replaceAll(BUDGET_NAME, longName)),
      deps({ env: { ...ENV, KILL_SWITCH_BUDGET_NAME: longName } }),
    );
    const reasons = mocks.ecs.commandCalls(StopTaskCommand).map((c) => c.args[0].input.reason ?? '');
    expect(reasons).toHaveLength(2);
    for (const reason of reasons) expect(reason.length).toBe(255);
  });
});

describe('notifications that must not engage the kill switch', () => {
  it.each([
    ['the 90% alert', ACTUAL_90, 'below-threshold', 'actual $1,812.40 < 100% of budgeted $2,000.00'],
    ['the FORECASTED 100% alert', FORECASTED_100, 'forecasted', 'FORECASTED alert'],
    [
      'another budget at 100%',
      OTHER_BUDGET_100,
      'other-budget',
      'fa-ai-system-prod-batch is not the kill switch',
    ],
  ])('%s: logs why, counts it, calls nothing', async (_name, message, reason, why) => {
    const info = vi.spyOn(obs.logger, 'info');

    const results = await handleEvent(snsEvent(message), deps());

    expect(results).toEqual([{ outcome: 'ignored', reason, explanation: expect.stringContaining(why) }]);
    for (const mock of Object.values(mocks)) expect(mock).not.toHaveReceivedAnyCommand();
    expect(info).toHaveBeenCalledWith(
      'Budget notification ignored',
      expect.objectContaining({ reason, explanation: expect.stringContaining(why) }),
    );
    const ignored = obs.emf.find((doc) => 'BudgetNotificationIgnored' in doc);
    expect(ignored).toMatchObject({ BudgetNotificationIgnored: 1, reason });
  });

  it('engages when a lower threshold notification already shows spend over the kill threshold', async () => {
    const jumped = ACTUAL_90.replace('ACTUAL Amount: $1,812.40', 'ACTUAL Amount: $2,000.00');
    const [result] = await handleEvent(snsEvent(jumped), deps());
    expect(result?.outcome).toBe('engaged');
  });

  it('honours KILL_THRESHOLD_PERCENT', async () => {
    const [result] = await handleEvent(
      snsEvent(ACTUAL_90),
      deps({ env: { ...ENV, KILL_THRESHOLD_PERCENT: '90' } }),
    );
    expect(result?.outcome).toBe('engaged');
  });
});

describe('an unreadable notification', () => {
  it('changes nothing, alerts humans with the problem, counts it and returns normally', async () => {
    const error = vi.spyOn(obs.logger, 'error');

    const results = await handleEvent(snsEvent(GARBAGE, { subject: null }), deps());

    expect(results).toEqual([
      {
        outcome: 'unparseable',
        missing: ['Budget Name', 'Budgeted Amount', 'Alert Type'],
        invalid: [],
      },
    ]);
    expect(mutations()).toBe(0);
    for (const mock of [mocks.scheduler, mocks.sfn, mocks.ecs]) expect(mock).not.toHaveReceivedAnyCommand();
    const [alert, ...others] = publishedMessages();
    expect(others).toEqual([]);
    expect(alert?.TopicArn).toBe(ALERT_TOPIC_ARN);
    expect(alert?.Subject).toBe('[prod] Budget kill switch: unreadable budget notification');
    expect(alert?.Message).toContain('could not parse a budget notification');
    expect(alert?.Message).toContain('missing: Budget Name, Budgeted Amount, Alert Type');
    expect(alert?.Message).toContain('NO action was taken');
    expect(alert?.Message).toContain('batch schedule default/fa-ai-system-prod-weekly-batch by hand');
    expect(error).toHaveBeenCalledWith(
      'Cannot parse the budget notification: NO action taken',
      expect.objectContaining({ missing: ['Budget Name', 'Budgeted Amount', 'Alert Type'] }),
    );
    expect(metricValue(obs.emf, 'UnparseableBudgetNotification')).toBe(1);
  });

  it('names the missing Budgeted Amount', async () => {
    const [result] = await handleEvent(snsEvent(MISSING_BUDGETED_AMOUNT), deps());
    expect(result).toEqual({ outcome: 'unparseable', missing: ['Budgeted Amount'], invalid: [] });
    expect(mutations()).toBe(0);
    expect(publishedMessages()[0]?.Message).toContain('missing: Budgeted Amount');
  });

  it('fails (so that Lambda retries) when even the alert cannot be published', async () => {
    mocks.sns.on(PublishCommand).rejects(awsError('AuthorizationErrorException', 'not authorized', 403));
    await expect(handleEvent(snsEvent(GARBAGE), deps())).rejects.toMatchObject({
      name: 'DependencyUnavailableError',
    });
    expect(mutations()).toBe(0);
  });
});

describe('an event that is not an SNS delivery', () => {
  it.each([
    ['an empty object', {}],
    ['an SQS event', { Records: [{ eventSource: 'aws:sqs', body: ACTUAL_100 }] }],
    ['no records', { Records: [] }],
    ['a string', ACTUAL_100],
  ])('%s: throws InvalidInputError and calls nothing', async (_name, event) => {
    await expect(handleEvent(event, deps())).rejects.toBeInstanceOf(InvalidInputError);
    for (const mock of Object.values(mocks)) expect(mock).not.toHaveReceivedAnyCommand();
    expect(metricValue(obs.emf, 'UnparseableBudgetNotification')).toBe(1);
  });
});

it('rejects an invalid configuration before calling anything', async () => {
  const { ALERT_TOPIC_ARN: _dropped, ...env } = ENV;
  await expect(handleEvent(snsEvent(ACTUAL_100), deps({ env }))).rejects.toThrow(
    /Invalid function configuration: ALERT_TOPIC_ARN/,
  );
  for (const mock of Object.values(mocks)) expect(mock).not.toHaveReceivedAnyCommand();
});

describe('a duplicate delivery', () => {
  it('changes nothing the second time and says since when and by whom it is engaged', async () => {
    await handleEvent(snsEvent(ACTUAL_100), deps());
    const first = {
      updates: mocks.scheduler.commandCalls(UpdateScheduleCommand).length,
      publishes: mocks.sns.commandCalls(PublishCommand).length,
    };
    // DynamoDB now holds the engaged state; the schedule reads DISABLED.
    resetMocks({ scheduleState: 'DISABLED' });
    mocks.ddb
      .on(TransactWriteCommand)
      .rejects(conditionalCheckFailed({ engagedAt: NOW.toISOString(), engagedBy: 'budget-guard' }));
    const info = vi.spyOn(obs.logger, 'info');
    obs.emf.length = 0;

    const [result] = await handleEvent(snsEvent(ACTUAL_100), deps());

    expect(first).toEqual({ updates: 1, publishes: 1 });
    expect(result).toMatchObject({
      outcome: 'duplicate',
      scheduleState: 'DISABLED',
      inconsistent: false,
      state: {
        engagedAt: NOW.toISOString(),
        engagedBy: 'budget-guard',
        actualAmount: 2001.37,
        complete: true,
      },
    });
    expect(mocks.ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.ssm).not.toHaveReceivedAnyCommand();
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(mocks.ecs).not.toHaveReceivedCommand(StopTaskCommand);
    expect(mocks.sns).not.toHaveReceivedAnyCommand();
    expect(mocks.ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(info).toHaveBeenCalledWith(
      `kill switch already engaged since ${NOW.toISOString()} by budget-guard`,
      expect.anything(),
    );
    expect(metricValue(obs.emf, 'KillSwitchDuplicate')).toBe(1);
    expect(metricValue(obs.emf, 'KillSwitchEngaged')).toBeUndefined();
  });

  it('alerts (and still changes nothing) when the schedule is ENABLED although the switch is engaged', async () => {
    mocks.ddb
      .on(TransactWriteCommand)
      .rejects(conditionalCheckFailed({ engagedAt: '2026-11-25T04:12:35.000Z', engagedBy: 'budget-guard' }));

    const [result] = await handleEvent(snsEvent(ACTUAL_100), deps());

    expect(result).toMatchObject({ outcome: 'duplicate', scheduleState: 'ENABLED', inconsistent: true });
    expect(mutations()).toBe(1); // the rejected TransactWriteItems
    const [alert, ...others] = publishedMessages();
    expect(others).toEqual([]);
    expect(alert?.Subject).toBe('[prod] Budget kill switch engaged but batch schedule ENABLED');
    expect(alert?.Message).toContain('recorded as engaged since 2026-11-25T04:12:35.000Z by budget-guard');
    expect(metricValue(obs.emf, 'KillSwitchInconsistent')).toBe(1);
  });
});

describe('throttling', () => {
  it('retries a throttled call and acts without reporting a failure', async () => {
    const throttled = awsError('ThrottlingException', 'Rate exceeded');
    mocks.scheduler
      .on(UpdateScheduleCommand)
      .rejectsOnce(throttled)
      .rejectsOnce(throttled)
      .resolves({ ScheduleArn: 'arn' });
    const sleep = vi.fn(async () => undefined);

    const [result] = await handleEvent(snsEvent(ACTUAL_100), deps({ retry: { sleep } }));

    expect(result?.outcome).toBe('engaged');
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 3);
    for (const call of mocks.scheduler.commandCalls(UpdateScheduleCommand)) {
      expect(call.args[0].input).toEqual(expectedScheduleUpdate('DISABLED'));
    }
    expect(sleep).toHaveBeenCalledTimes(2);
    expect(publishedMessages()).toHaveLength(1);
    expect(mocks.ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});

describe('a failing action', () => {
  it('still makes every other call, reports the failure, marks the engagement partial and fails', async () => {
    resetMocks({ executions: 2, tasks: 3 });
    mocks.ecs
      .on(StopTaskCommand, { task: taskArn(1) })
      .rejects(
        awsError(
          'AccessDeniedException',
          'User: arn:aws:sts::222222222222:assumed-role/budget-guard is not authorized to perform: ecs:StopTask',
        ),
      );

    const error = await handleEvent(snsEvent(ACTUAL_100), deps()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KillSwitchIncompleteError);
    expect((error as KillSwitchIncompleteError).failures).toEqual([
      {
        call: 'StopTask',
        target: taskArn(1),
        error: expect.stringMatching(/^AccessDeniedException: User: .* ecs:StopTask$/),
      },
    ]);
    // Every other action was made, the denied one once (not retryable).
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
    expect(mocks.ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(mocks.sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 2);
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 3);
    const [summary, report, ...others] = publishedMessages();
    expect(others).toEqual([]);
    expect(summary?.Subject).toContain('ENGAGED');
    expect(report?.TopicArn).toBe(ALERT_TOPIC_ARN);
    expect(report?.Subject).toBe('[prod] Budget kill switch INCOMPLETE: 1 action(s) failed');
    expect(report?.Message).toContain(`- StopTask ${taskArn(1)}: AccessDeniedException: User:`);
    // Round 3 marks the state incomplete (only our own attempt) and the audit partial.
    expect(mocks.ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: ENV.OPS_TABLE_NAME,
      Key: { pk: 'KILL_SWITCH', sk: 'STATE' },
      UpdateExpression: 'SET #complete = :false',
      ConditionExpression: '#attemptId = :attemptId',
      ExpressionAttributeValues: { ':false': false, ':attemptId': ATTEMPT_ID },
    });
    const auditSk = mocks.ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[1]?.Put
      ?.Item?.sk as string;
    expect(mocks.ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'AUDIT', sk: auditSk },
      UpdateExpression: 'SET #outcome = :outcome, #details.#failures = :failures',
      ExpressionAttributeValues: {
        ':outcome': 'partial',
        ':failures': [expect.objectContaining({ call: 'StopTask', target: taskArn(1) })],
      },
    });
    expect(metricValue(obs.emf, 'KillSwitchIncomplete')).toBe(1);
    expect(metricValue(obs.emf, 'KillSwitchEngaged')).toBeUndefined();
  });

  it('without the schedule definition, still writes the parameter and stops the work, then fails', async () => {
    mocks.scheduler
      .on(GetScheduleCommand)
      .rejects(awsError('ResourceNotFoundException', 'Schedule not found', 404));

    const error = await handleEvent(snsEvent(ACTUAL_100), deps()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KillSwitchIncompleteError);
    expect((error as KillSwitchIncompleteError).failures).toEqual([
      expect.objectContaining({
        call: 'UpdateSchedule',
        error: 'not attempted: GetSchedule failed: ResourceNotFoundException: Schedule not found',
      }),
    ]);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.ssm).toHaveReceivedCommandTimes(PutParameterCommand, 1);
    expect(mocks.sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 2);
    expect(publishedMessages()[0]?.Message).toContain('Already failed:');
  });
});

describe('when the state cannot be recorded', () => {
  it.each([
    ['access denied', [awsError('AccessDeniedException', 'not authorized to perform: dynamodb:PutItem')], 1],
    [
      'throttled past the retries',
      Array.from({ length: 5 }, () =>
        awsError('ProvisionedThroughputExceededException', 'Throughput exceeded'),
      ),
      5,
    ],
  ])('%s: takes no action, alerts humans and fails', async (_name, errors, attempts) => {
    let behaviour = mocks.ddb.on(TransactWriteCommand);
    for (const e of errors) behaviour = behaviour.rejectsOnce(e);

    const error = await handleEvent(snsEvent(ACTUAL_100), deps()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KillSwitchNotEngagedError);
    expect(mocks.ddb).toHaveReceivedCommandTimes(TransactWriteCommand, attempts);
    expect(mutations()).toBe(attempts);
    const [alert, ...others] = publishedMessages();
    expect(others).toEqual([]);
    expect(alert?.Subject).toBe('[prod] Budget kill switch FAILED: batch NOT disabled');
    expect(alert?.Message).toContain('took NO action: the batch is NOT disabled');
    expect(alert?.Message).toContain((errors[0] as Error).name);
    expect(alert?.Message).toContain('npm run ops -- batch disable');
    expect(metricValue(obs.emf, 'KillSwitchNotEngaged')).toBe(1);
  });
});

describe('sequential round trips', () => {
  it.each([
    [1, 1],
    [10, 10],
  ])('are 2 on the happy path with %i execution(s) and %i task(s)', async (executions, tasks) => {
    const tracker = new RoundTripTracker();
    resetMocks({ executions, tasks, tracker });

    const [result] = await handleEvent(snsEvent(ACTUAL_100), deps());

    expect(result?.outcome).toBe('engaged');
    expect(tracker.depth).toBe(2);
    const round = (level: number) =>
      tracker.calls
        .filter((c) => c.level === level)
        .map((c) => c.command)
        .sort();
    expect(round(1)).toEqual(['GetSchedule', 'ListExecutions', 'ListTasks', 'TransactWriteItems']);
    expect(round(2)).toEqual(
      [
        'Publish',
        'PutParameter',
        'UpdateSchedule',
        ...Array<string>(executions).fill('StopExecution'),
        ...Array<string>(tasks).fill('StopTask'),
      ].sort(),
    );
  });

  it('are 1 for a duplicate, 3 after a failed action', async () => {
    const duplicate = new RoundTripTracker();
    resetMocks({ scheduleState: 'DISABLED', tracker: duplicate });
    mocks.ddb
      .on(TransactWriteCommand)
      .callsFake(
        duplicate.wrap('TransactWriteItems', () =>
          Promise.reject(conditionalCheckFailed({ engagedAt: NOW.toISOString(), engagedBy: 'budget-guard' })),
        ),
      );
    await handleEvent(snsEvent(ACTUAL_100), deps());
    expect(duplicate.depth).toBe(1);

    const partial = new RoundTripTracker();
    resetMocks({ tracker: partial });
    mocks.ssm
      .on(PutParameterCommand)
      .callsFake(
        partial.wrap('PutParameter', () => Promise.reject(awsError('AccessDeniedException', 'denied'))),
      );
    await expect(handleEvent(snsEvent(ACTUAL_100), deps())).rejects.toBeInstanceOf(KillSwitchIncompleteError);
    expect(partial.depth).toBe(3);
  });
});

describe('a retry after a partial failure', () => {
  /**
   * A model of the state item: applies the engagement condition and the round 3 update the
   * way DynamoDB would, so that the sequence fail -> retry -> duplicate can be followed.
   */
  function stateTable() {
    let item: Record<string, unknown> | undefined;
    mocks.ddb.on(TransactWriteCommand).callsFake(async (input) => {
      const put = input.TransactItems[0].Put;
      if (put.ConditionExpression && item && item.engaged === true && item.complete !== false) {
        throw conditionalCheckFailed({
          engagedAt: String(item.engagedAt),
          engagedBy: String(item.engagedBy),
        });
      }
      item = { ...put.Item };
      return {};
    });
    mocks.ddb.on(UpdateCommand, { Key: { pk: 'KILL_SWITCH', sk: 'STATE' } }).callsFake(async (input) => {
      if (item?.attemptId !== input.ExpressionAttributeValues[':attemptId'])
        throw awsError('ConditionalCheckFailedException', 'x');
      item = { ...item, complete: false };
      return {};
    });
    return { get: () => item };
  }

  it('engages again and redoes the actions; a later duplicate changes nothing', async () => {
    const table = stateTable();
    let attempt = 0;
    const next = () => `attempt-${++attempt}`;
    mocks.ecs.on(StopTaskCommand).rejectsOnce(awsError('AccessDeniedException', 'denied')).resolves({});

    await expect(handleEvent(snsEvent(ACTUAL_100), deps({ newId: next }))).rejects.toBeInstanceOf(
      KillSwitchIncompleteError,
    );
    expect(table.get()).toMatchObject({ engaged: true, complete: false, attemptId: 'attempt-1' });

    // Lambda's asynchronous retry of the same event.
    const [retried] = await handleEvent(snsEvent(ACTUAL_100), deps({ newId: next }));
    expect(retried?.outcome).toBe('engaged');
    expect(table.get()).toMatchObject({ engaged: true, complete: true, attemptId: 'attempt-2' });
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 2);
    expect(mocks.ecs).toHaveReceivedCommandTimes(StopTaskCommand, 4);

    // SNS delivering the message once more.
    const [duplicate] = await handleEvent(snsEvent(ACTUAL_100), deps({ newId: next }));
    expect(duplicate?.outcome).toBe('duplicate');
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 2);
  });
});
