import 'aws-sdk-client-mock-vitest/extend';
import { ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it, vi } from 'vitest';
import { InvalidInputError } from '../../../core/errors';
import { handleEvent } from '../../../lambdas/budget-guard/handler';
import { KillSwitchIncompleteError, KillSwitchNotEngagedError } from '../../../lambdas/budget-guard/logic';
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
  auditItems,
  awsError,
  ENV,
  engagedItem,
  envOf,
  executionArn,
  expectedScheduleUpdate,
  HANDLER_ATTEMPT_ID,
  HANDLER_NOW,
  handlerWorld,
  metricValue,
  mocks,
  mutationsOf,
  publishedMessages,
  resetMocks,
  STATE_MACHINE_ARN,
  STATE_WRITTEN,
  stateItem,
  taskArn,
} from './harness';

checkDeclaredCalls('budget-guard');

const NOW = HANDLER_NOW;
const ATTEMPT_ID = HANDLER_ATTEMPT_ID;

const hw = handlerWorld();

describe('a 100% ACTUAL notification of the kill switch budget', () => {
  it('records, disables the schedule and its parameter, stops the work and tells humans', async () => {
    const results = await handleEvent(snsEvent(ACTUAL_100), hw.deps());

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

    // The engagement, complete, and its audit entry with the outcome.
    expect(await stateItem(hw.table)).toEqual(STATE_WRITTEN);
    const [audit, ...moreAudits] = await auditItems(hw.table);
    expect(moreAudits).toEqual([]);
    expect(audit).toMatchObject({
      pk: 'AUDIT',
      sk: '2026-11-25T04:12:35.000Z#5b0e8f1c',
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
        attemptId: ATTEMPT_ID,
        stoppedExecutions: [executionArn(0)],
        stoppedTasks: [taskArn(0), taskArn(1)],
      },
    });
    expect(audit?.details).not.toHaveProperty('failures');
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

    expect(metricValue(hw.obs.emf, 'KillSwitchEngaged')).toBe(1);
    expect(metricValue(hw.obs.emf, 'ExecutionsStopped')).toBe(1);
    expect(metricValue(hw.obs.emf, 'TasksStopped')).toBe(2);
  });

  it('engages on a percentage-style threshold too', async () => {
    const [result] = await handleEvent(snsEvent(ACTUAL_100_PERCENT_THRESHOLD), hw.deps());
    expect(result?.outcome).toBe('engaged');
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
  });

  it('keeps the reason given to ECS within its 255 characters', async () => {
    const longName = `${BUDGET_NAME}-${'x'.repeat(300)}`;
    await handleEvent(
      snsEvent(ACTUAL_100.replaceAll(BUDGET_NAME, longName)),
      hw.deps({ env: { ...envOf(hw.table), KILL_SWITCH_BUDGET_NAME: longName } }),
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
    [
      'the kill switch budget of another account at 100%',
      ACTUAL_100.replace('AWS Account 222222222222', 'AWS Account 999999999999'),
      'other-account',
      'from account 999999999999, not 222222222222',
    ],
  ])('%s: logs why, counts it, calls nothing', async (_name, message, reason, why) => {
    const info = vi.spyOn(hw.obs.logger, 'info');

    const results = await handleEvent(snsEvent(message), hw.deps());

    expect(results).toEqual([{ outcome: 'ignored', reason, explanation: expect.stringContaining(why) }]);
    for (const mock of Object.values(mocks)) expect(mock).not.toHaveReceivedAnyCommand();
    expect(hw.table.sent).toEqual([]);
    expect(await hw.table.items()).toEqual([]);
    expect(info).toHaveBeenCalledWith(
      'Budget notification ignored',
      expect.objectContaining({ reason, explanation: expect.stringContaining(why) }),
    );
    const ignored = hw.obs.emf.find((doc) => 'BudgetNotificationIgnored' in doc);
    expect(ignored).toMatchObject({ BudgetNotificationIgnored: 1, reason });
  });

  it('engages when a lower threshold notification already shows spend over the kill threshold', async () => {
    const jumped = ACTUAL_90.replace('ACTUAL Amount: $1,812.40', 'ACTUAL Amount: $2,000.00');
    const [result] = await handleEvent(snsEvent(jumped), hw.deps());
    expect(result?.outcome).toBe('engaged');
  });

  it('honours KILL_THRESHOLD_PERCENT', async () => {
    const [result] = await handleEvent(
      snsEvent(ACTUAL_90),
      hw.deps({ env: { ...envOf(hw.table), KILL_THRESHOLD_PERCENT: '90' } }),
    );
    expect(result?.outcome).toBe('engaged');
  });
});

describe('an unreadable notification', () => {
  it('changes nothing, alerts humans with the problem, counts it and returns normally', async () => {
    const error = vi.spyOn(hw.obs.logger, 'error');

    const results = await handleEvent(snsEvent(GARBAGE, { subject: null }), hw.deps());

    expect(results).toEqual([
      {
        outcome: 'unparseable',
        missing: ['Budget Name', 'Budgeted Amount', 'Alert Type'],
        invalid: [],
      },
    ]);
    expect(mutationsOf(hw.table)).toBe(0);
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
    expect(metricValue(hw.obs.emf, 'UnparseableBudgetNotification')).toBe(1);
  });

  it('names the missing Budgeted Amount', async () => {
    const [result] = await handleEvent(snsEvent(MISSING_BUDGETED_AMOUNT), hw.deps());
    expect(result).toEqual({ outcome: 'unparseable', missing: ['Budgeted Amount'], invalid: [] });
    expect(mutationsOf(hw.table)).toBe(0);
    expect(publishedMessages()[0]?.Message).toContain('missing: Budgeted Amount');
  });

  it('fails (so that Lambda retries) when even the alert cannot be published', async () => {
    mocks.sns.on(PublishCommand).rejects(awsError('AuthorizationErrorException', 'not authorized', 403));
    await expect(handleEvent(snsEvent(GARBAGE), hw.deps())).rejects.toMatchObject({
      name: 'DependencyUnavailableError',
    });
    expect(mutationsOf(hw.table)).toBe(0);
  });
});

describe('an event that is not an SNS delivery', () => {
  it.each([
    ['an empty object', {}],
    ['an SQS event', { Records: [{ eventSource: 'aws:sqs', body: ACTUAL_100 }] }],
    ['no records', { Records: [] }],
    ['a string', ACTUAL_100],
  ])('%s: throws InvalidInputError and calls nothing', async (_name, event) => {
    await expect(handleEvent(event, hw.deps())).rejects.toBeInstanceOf(InvalidInputError);
    for (const mock of Object.values(mocks)) expect(mock).not.toHaveReceivedAnyCommand();
    expect(hw.table.sent).toEqual([]);
    expect(metricValue(hw.obs.emf, 'UnparseableBudgetNotification')).toBe(1);
  });
});

it('rejects an invalid configuration before calling anything', async () => {
  const { ALERT_TOPIC_ARN: _dropped, ...env } = envOf(hw.table);
  await expect(handleEvent(snsEvent(ACTUAL_100), hw.deps({ env }))).rejects.toThrow(
    /Invalid function configuration: ALERT_TOPIC_ARN/,
  );
  for (const mock of Object.values(mocks)) expect(mock).not.toHaveReceivedAnyCommand();
  expect(hw.table.sent).toEqual([]);
});

describe('a duplicate delivery', () => {
  it('changes nothing the second time and says since when and by whom it is engaged', async () => {
    await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    const itemsAfterFirst = await hw.table.items();
    const first = {
      updates: mocks.scheduler.commandCalls(UpdateScheduleCommand).length,
      publishes: mocks.sns.commandCalls(PublishCommand).length,
    };
    // The hw.table keeps the engagement; the schedule now reads DISABLED.
    resetMocks({ scheduleState: 'DISABLED' });
    const info = vi.spyOn(hw.obs.logger, 'info');
    hw.obs.emf.length = 0;

    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps({ newId: () => 'attempt-2' }));

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
    expect(await hw.table.items()).toEqual(itemsAfterFirst);
    expect(mocks.scheduler).not.toHaveReceivedCommand(UpdateScheduleCommand);
    expect(mocks.ssm).not.toHaveReceivedAnyCommand();
    expect(mocks.sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(mocks.ecs).not.toHaveReceivedCommand(StopTaskCommand);
    expect(mocks.sns).not.toHaveReceivedAnyCommand();
    expect(info).toHaveBeenCalledWith(
      `kill switch already engaged since ${NOW.toISOString()} by budget-guard`,
      expect.anything(),
    );
    expect(metricValue(hw.obs.emf, 'KillSwitchDuplicate')).toBe(1);
    expect(metricValue(hw.obs.emf, 'KillSwitchEngaged')).toBeUndefined();
  });

  it('alerts (and still changes nothing) when the schedule is ENABLED although the switch is engaged', async () => {
    await hw.table.seed(engagedItem());

    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());

    expect(result).toMatchObject({ outcome: 'duplicate', scheduleState: 'ENABLED', inconsistent: true });
    expect(await hw.table.items()).toEqual([engagedItem()]);
    const [alert, ...others] = publishedMessages();
    expect(others).toEqual([]);
    expect(alert?.Subject).toBe('[prod] Budget kill switch engaged but batch schedule ENABLED');
    expect(alert?.Message).toContain('recorded as engaged since 2026-11-25T04:12:35.000Z by budget-guard');
    expect(metricValue(hw.obs.emf, 'KillSwitchInconsistent')).toBe(1);
  });

  it('engages again after a release', async () => {
    await hw.table.seed(engagedItem({ engaged: false, releasedAt: '2026-11-26T00:00:00.000Z' }));
    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());
    expect(result?.outcome).toBe('engaged');
    expect(await stateItem(hw.table)).toEqual(STATE_WRITTEN);
  });
});

describe('a late delivery', () => {
  it('after a human re-enabled the batch, engages again (the budget is still over)', async () => {
    await hw.table.seed(
      engagedItem({ engaged: false, releasedAt: '2026-11-25T10:00:00.000Z', releasedBy: 'alice' }),
    );
    const late = new Date('2026-11-25T11:00:00.000Z');
    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps({ now: () => late }));
    expect(result?.outcome).toBe('engaged');
    expect(await stateItem(hw.table)).toMatchObject({
      engaged: true,
      complete: true,
      engagedAt: late.toISOString(),
    });
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 1);
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
    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps({}));

    expect(result?.outcome).toBe('engaged');
    expect(mocks.scheduler).toHaveReceivedCommandTimes(UpdateScheduleCommand, 3);
    for (const call of mocks.scheduler.commandCalls(UpdateScheduleCommand)) {
      expect(call.args[0].input).toEqual(expectedScheduleUpdate('DISABLED'));
    }
    expect(publishedMessages()).toHaveLength(1);
    expect(await stateItem(hw.table)).toEqual(STATE_WRITTEN);
  });

  it('retries throttled state writes and completes the engagement', async () => {
    const throttled = () => awsError('ProvisionedThroughputExceededException', 'Throughput exceeded');
    hw.table.failWith({ operation: 'PutItem', pk: 'KILL_SWITCH', error: throttled, times: 2 });
    hw.table.failWith({ operation: 'UpdateItem', pk: 'KILL_SWITCH', error: throttled, times: 2 });

    const [result] = await handleEvent(snsEvent(ACTUAL_100), hw.deps());

    expect(result?.outcome).toBe('engaged');
    expect(await stateItem(hw.table)).toEqual(STATE_WRITTEN);
    expect(await auditItems(hw.table)).toHaveLength(1);
  });
});

describe('a failing action', () => {
  it('still makes every other call, reports the failure, leaves the engagement incomplete and fails', async () => {
    await hw.reset({ executions: 2, tasks: 3 });
    mocks.ecs
      .on(StopTaskCommand, { task: taskArn(1) })
      .rejects(
        awsError(
          'AccessDeniedException',
          'User: arn:aws:sts::222222222222:assumed-role/budget-guard is not authorized to perform: ecs:StopTask',
        ),
      );

    const error = await handleEvent(snsEvent(ACTUAL_100), hw.deps()).catch((e: unknown) => e);

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
    // The state stays incomplete (a retry redoes everything); the audit says partial, and why.
    const { completedAt: _c, ...incomplete } = STATE_WRITTEN;
    expect(await stateItem(hw.table)).toEqual({ ...incomplete, complete: false });
    const [audit] = await auditItems(hw.table);
    expect(audit).toMatchObject({
      outcome: 'partial',
      details: { failures: [expect.objectContaining({ call: 'StopTask', target: taskArn(1) })] },
    });
    expect(metricValue(hw.obs.emf, 'KillSwitchIncomplete')).toBe(1);
    expect(metricValue(hw.obs.emf, 'KillSwitchEngaged')).toBeUndefined();
  });

  it('without the schedule definition, still writes the parameter and stops the work, then fails', async () => {
    mocks.scheduler
      .on(GetScheduleCommand)
      .rejects(awsError('ResourceNotFoundException', 'Schedule not found', 404));

    const error = await handleEvent(snsEvent(ACTUAL_100), hw.deps()).catch((e: unknown) => e);

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
    expect(await stateItem(hw.table)).toMatchObject({ complete: false });
  });

  it('fails (so that the retry completes it) when the completion cannot be recorded', async () => {
    hw.table.failWith({
      operation: 'UpdateItem',
      pk: 'KILL_SWITCH',
      error: () => awsError('AccessDeniedException', 'not authorized to perform: dynamodb:UpdateItem'),
    });
    const error = await handleEvent(snsEvent(ACTUAL_100), hw.deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KillSwitchIncompleteError);
    expect(await stateItem(hw.table)).toMatchObject({ engaged: true, complete: false });
  });
});

describe('when the state cannot be recorded', () => {
  it.each([
    [
      'access denied',
      () => awsError('AccessDeniedException', 'not authorized to perform: dynamodb:PutItem'),
      1,
    ],
    [
      'throttled past the retries',
      () => awsError('ProvisionedThroughputExceededException', 'Throughput exceeded'),
      5,
    ],
    ['timing out', () => Object.assign(new Error('Connection timed out'), { name: 'TimeoutError' }), 5],
  ])('%s: takes no action, alerts humans and fails', async (_name, fault, attempts) => {
    hw.table.failWith({ operation: 'PutItem', pk: 'KILL_SWITCH', error: fault });

    const error = await handleEvent(snsEvent(ACTUAL_100), hw.deps()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KillSwitchNotEngagedError);
    expect(hw.table.sent.filter((c) => c.operation === 'PutItem')).toHaveLength(attempts);
    expect(mutationsOf(hw.table)).toBe(attempts);
    expect(await hw.table.items()).toEqual([]);
    const [alert, ...others] = publishedMessages();
    expect(others).toEqual([]);
    expect(alert?.Subject).toBe('[prod] Budget kill switch FAILED: batch NOT disabled');
    expect(alert?.Message).toContain('took NO action: the batch is NOT disabled');
    expect(alert?.Message).toContain(fault().name);
    expect(alert?.Message).toContain('npm run ops -- batch disable');
    expect(metricValue(hw.obs.emf, 'KillSwitchNotEngaged')).toBe(1);
  });
});
