/**
 * Engaging the kill switch: the one code path that disables the batch, whoever asks (a Budgets
 * notification, the spend guard at a kill threshold, a human's `batch disable`).
 *
 * The protocol is single-item, so that a crash at any point leaves a state a retry can finish:
 * 1. record the engagement: a put of the state item with `complete: false` and this attempt's
 *    id (for a notification, conditional on the switch being never engaged, released or left
 *    incomplete), in parallel with the reads the actions need (schedule, running executions,
 *    running batch tasks);
 * 2. act, in parallel: disable the schedule, write the SSM parameter CloudFormation reads the
 *    schedule's state from, stop every execution and task found, publish the summary;
 * 3. when every action succeeded, mark the state complete (conditional on this attempt's id:
 *    a later attempt or a release is never overwritten); in parallel, write the audit item
 *    with the outcome (ok or partial, with the failures) and, after a failure, the report.
 *
 * Three sequential rounds on the normal path. A Lambda that dies between rounds 1 and 3 leaves
 * `complete: false`, so the retry of the same notification records again and redoes every
 * action (all idempotent); a duplicate delivery after a complete engagement changes nothing.
 */

import { ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AuditEntry,
  type AuditOutcome,
  auditKey,
  conditionally,
  fromAttributeValues,
  isConditionFailure,
  KILL_SWITCH_ENGAGE_CONDITION,
  type KillSwitchState,
  killSwitchKey,
  killSwitchStateItem,
  parseKillSwitchState,
  readKillSwitchState,
  recordAudit,
  shortId,
} from '../ops-table/items';
import { runInParallel } from '../parallel';
import {
  describeError,
  engagedNotice,
  incompleteNotice,
  LIST_PAGE_SIZE,
  notRecordedNotice,
  publishAction,
  publishAlert,
  reportFailures,
  resolve,
  STOP_CAUSE_MAX,
  STOP_TASK_REASON_MAX,
  scheduleEnabledNotice,
  scheduleUpdate,
  stateParameterUpdate,
} from './messages';
import {
  type ActionFailure,
  type BatchAction,
  type DuplicateResult,
  type EngageResult,
  type EngageTrigger,
  type KillSwitchClients,
  type KillSwitchConfig,
  KillSwitchIncompleteError,
  KillSwitchNotEngagedError,
  type RunOptions,
} from './types';

/**
 * Engages the kill switch: records it, disables the schedule and its SSM parameter, stops the
 * running executions and batch tasks, tells humans, then marks it complete and audits it, in
 * three rounds of parallel calls. Returns a DuplicateResult (having changed nothing) when
 * `trigger.deduplicate` and the switch is already engaged and complete. Throws
 * KillSwitchNotEngagedError when the state cannot be recorded (nothing done) and
 * KillSwitchIncompleteError, after attempting every action and reporting the failures, when
 * some action failed (the state stays incomplete, so the retry redoes them).
 */
export async function engageKillSwitch(
  clients: KillSwitchClients,
  config: KillSwitchConfig,
  trigger: EngageTrigger,
  options: RunOptions = {},
): Promise<EngageResult> {
  const { now, newId, logger } = resolve(options);
  const at = now();
  const attemptId = newId();
  const state: KillSwitchState = {
    engaged: true,
    // Complete only once every action is known to have succeeded (round 3).
    complete: false,
    engagedAt: at.toISOString(),
    engagedBy: trigger.actor,
    reason: trigger.reason,
    source: trigger.source,
    budgetName: trigger.budget?.name,
    actualAmount: trigger.budget?.actualAmount,
    budgetedAmount: trigger.budget?.budgetedAmount,
    messageId: trigger.messageId,
    attemptId,
  };
  const scheduleRef = `${config.batchScheduleGroup}/${config.batchScheduleName}`;

  // Round 1: the record and the reads the actions need. The reads are harmless if the
  // record turns out to be a duplicate. Retrying the put after a lost answer is safe: the
  // landed item is itself incomplete, so the condition admits it again.
  const [recorded, schedule, executions, tasks] = await Promise.allSettled([
    clients.ddb.send(
      new PutCommand({
        TableName: config.opsTableName,
        Item: killSwitchStateItem(state),
        ...(trigger.deduplicate
          ? { ...KILL_SWITCH_ENGAGE_CONDITION, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }
          : {}),
      }),
    ),
    clients.scheduler.send(
      new GetScheduleCommand({ Name: config.batchScheduleName, GroupName: config.batchScheduleGroup }),
    ),
    clients.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: config.batchStateMachineArn,
        statusFilter: 'RUNNING',
        maxResults: LIST_PAGE_SIZE,
      }),
    ),
    clients.ecs.send(
      new ListTasksCommand({
        cluster: config.ecsCluster,
        family: config.batchTaskFamily,
        desiredStatus: 'RUNNING',
        maxResults: LIST_PAGE_SIZE,
      }),
    ),
  ]);
  const scheduleState = schedule.status === 'fulfilled' ? schedule.value.State : undefined;

  if (recorded.status === 'rejected') {
    if (trigger.deduplicate && isConditionFailure(recorded.reason)) {
      const previous = await previousState(clients, config, recorded.reason);
      return reportDuplicate(clients, config, previous, scheduleState, { logger });
    }
    logger.error('Cannot record the kill switch state: NO action taken', {
      error: describeError(recorded.reason),
    });
    await publishAlert(
      clients.sns,
      config,
      notRecordedNotice(config, trigger, describeError(recorded.reason), scheduleRef),
    ).catch((error: unknown) =>
      logger.error('Cannot publish the alert either', { error: describeError(error) }),
    );
    throw new KillSwitchNotEngagedError(
      `Cannot record the kill switch state, no action taken: ${describeError(recorded.reason)}`,
      { cause: recorded.reason },
    );
  }

  // Round 2: every action at once; none depends on another.
  const executionArns =
    executions.status === 'fulfilled'
      ? (executions.value.executions ?? []).map((e) => e.executionArn ?? '').filter((a) => a !== '')
      : [];
  const taskArns = tasks.status === 'fulfilled' ? (tasks.value.taskArns ?? []) : [];
  const stopText = `Budget kill switch (${config.environment}): ${trigger.reason}`;
  const failures: ActionFailure[] = [];
  const actions: BatchAction[] = [];

  if (schedule.status === 'fulfilled') {
    actions.push({
      call: 'UpdateSchedule',
      target: scheduleRef,
      run: () =>
        clients.scheduler.send(new UpdateScheduleCommand(scheduleUpdate(schedule.value, 'DISABLED'))),
    });
  } else {
    failures.push({
      call: 'UpdateSchedule',
      target: scheduleRef,
      error: `not attempted: GetSchedule failed: ${describeError(schedule.reason)}`,
    });
  }
  actions.push({
    call: 'PutParameter',
    target: config.batchScheduleStateParameter,
    run: () => clients.ssm.send(stateParameterUpdate(config, 'DISABLED')),
  });
  failures.push(...listingFailures('ListExecutions', config.batchStateMachineArn, 'executions', executions));
  for (const executionArn of executionArns) {
    actions.push({
      call: 'StopExecution',
      target: executionArn,
      run: () =>
        clients.sfn.send(
          new StopExecutionCommand({
            executionArn,
            error: 'BudgetKillSwitch',
            cause: stopText.slice(0, STOP_CAUSE_MAX),
          }),
        ),
    });
  }
  failures.push(
    ...listingFailures('ListTasks', `${config.ecsCluster}/${config.batchTaskFamily}`, 'tasks', tasks),
  );
  for (const task of taskArns) {
    actions.push({
      call: 'StopTask',
      target: task,
      run: () =>
        clients.ecs.send(
          new StopTaskCommand({
            cluster: config.ecsCluster,
            task,
            reason: stopText.slice(0, STOP_TASK_REASON_MAX),
          }),
        ),
    });
  }
  actions.push(
    publishAction(
      clients.sns,
      config,
      engagedNotice(config, trigger, state, {
        scheduleRef,
        executionArns,
        taskArns,
        failuresSoFar: failures,
      }),
    ),
  );

  const { failed } = await runInParallel(actions, (action) => action.run());
  for (const { action, error } of failed) {
    failures.push({ call: action.call, target: action.target, error: describeError(error) });
  }
  const failedTargets = new Set(failures.map((f) => f.target));
  const stoppedExecutions = executionArns.filter((arn) => !failedTargets.has(arn));
  const stoppedTasks = taskArns.filter((arn) => !failedTargets.has(arn));

  // Round 3: complete (only when nothing failed), the audit item with the outcome, the report.
  const auditOutcome: AuditOutcome = failures.length === 0 ? 'ok' : 'partial';
  // The attempt's id names its audit entry: one entry per attempt, never another's overwritten.
  const auditId = attemptId.replace(/[^0-9a-zA-Z]/g, '').slice(0, 8) || shortId();
  const auditAt = now();
  const auditEntry: AuditEntry = {
    action: trigger.action,
    actor: trigger.actor,
    reason: trigger.reason,
    source: trigger.source,
    outcome: auditOutcome,
    environment: config.environment,
    details: {
      messageId: trigger.messageId,
      budgetName: trigger.budget?.name,
      actualAmount: trigger.budget?.actualAmount,
      budgetedAmount: trigger.budget?.budgetedAmount,
      thresholdAmount: trigger.budget?.thresholdAmount,
      thresholdPercent: trigger.budget?.thresholdPercent,
      figures: trigger.budget?.figures,
      attemptId,
      engagedAt: state.engagedAt,
      stoppedExecutions,
      stoppedTasks,
      failures: failures.length === 0 ? undefined : failures,
    },
  };
  const auditSk = auditKey(auditAt, auditId).sk;
  if (failures.length > 0) logger.error('Kill switch actions failed', { failures });
  const [completed, audited, reported] = await Promise.allSettled([
    failures.length === 0 ? markComplete(clients, config, attemptId, now()) : Promise.resolve(false),
    recordAudit(clients.ddb, config.opsTableName, auditEntry, {
      now: auditAt,
      id: auditId,
    }),
    reportFailures(clients.sns, config, failures, incompleteNotice(config, trigger, failures, scheduleRef)),
  ]);
  if (audited.status === 'rejected') {
    logger.error('Cannot write the kill switch audit item', { error: describeError(audited.reason) });
  }
  if (reported.status === 'rejected') {
    logger.error('Cannot report the failed kill switch actions', { error: describeError(reported.reason) });
  }
  if (failures.length > 0) {
    throw new KillSwitchIncompleteError(
      `Kill switch engaged but ${failures.length} action(s) failed: ` +
        failures.map((f) => `${f.call} ${f.target}: ${f.error}`).join('; '),
      failures,
    );
  }
  if (completed.status === 'rejected') {
    // Every action was done, but a duplicate would not know it: failing makes the retry redo
    // them (harmlessly) and record completion.
    const failure: ActionFailure = {
      call: 'UpdateItem',
      target: `${config.opsTableName} (kill switch state)`,
      error: describeError(completed.reason),
    };
    logger.error('Cannot mark the kill switch engagement complete', { failure });
    throw new KillSwitchIncompleteError(
      `Kill switch actions done but the engagement is not marked complete: ${failure.error}`,
      [failure],
    );
  }
  if (!completed.value) {
    logger.warn('The kill switch state changed during this engagement (released or engaged again)', {
      attemptId,
    });
  }
  logger.info('Kill switch engaged', {
    actor: trigger.actor,
    scheduleStateBefore: scheduleState,
    stoppedExecutions,
    stoppedTasks,
  });
  return {
    outcome: 'engaged',
    attemptId,
    engagedAt: state.engagedAt,
    auditSk,
    scheduleStateBefore: scheduleState,
    stoppedExecutions,
    stoppedTasks,
  };
}

/**
 * What went wrong with a listing of the running work (executions, tasks): it could not be read,
 * so none was stopped, or it had more than a page, which counts as a failure so that the retry
 * lists and stops the next page.
 */
function listingFailures(
  call: string,
  target: string,
  what: string,
  listed: PromiseSettledResult<{ readonly nextToken?: string }>,
): ActionFailure[] {
  if (listed.status === 'rejected') {
    return [{ call, target, error: `running ${what} not stopped: ${describeError(listed.reason)}` }];
  }
  if (listed.value.nextToken) {
    const error = `more than ${LIST_PAGE_SIZE} running ${what}: only the first ${LIST_PAGE_SIZE} were stopped`;
    return [{ call, target, error }];
  }
  return [];
}

/**
 * Marks this attempt's engagement complete; false when the state is no longer this attempt's
 * engagement (a later attempt took it over, or a human released it in between).
 */
async function markComplete(
  clients: KillSwitchClients,
  config: KillSwitchConfig,
  attemptId: string,
  at: Date,
): Promise<boolean> {
  return conditionally(
    clients.ddb.send(
      new UpdateCommand({
        TableName: config.opsTableName,
        Key: killSwitchKey(),
        UpdateExpression: 'SET #complete = :true, #completedAt = :at',
        ConditionExpression: '#attemptId = :attemptId AND #engaged = :true',
        ExpressionAttributeNames: {
          '#complete': 'complete',
          '#completedAt': 'completedAt',
          '#attemptId': 'attemptId',
          '#engaged': 'engaged',
        },
        ExpressionAttributeValues: { ':true': true, ':at': at.toISOString(), ':attemptId': attemptId },
      }),
    ),
  );
}

/**
 * The state that made the engagement a duplicate: returned with the failed condition when the
 * service supports it, else read (strongly consistent).
 */
async function previousState(
  clients: KillSwitchClients,
  config: KillSwitchConfig,
  error: unknown,
): Promise<{ state: KillSwitchState | undefined }> {
  try {
    const returned = (error as { Item?: Record<string, unknown> }).Item;
    if (returned !== undefined) return { state: parseKillSwitchState(fromAttributeValues(returned)) };
    return { state: await readKillSwitchState(clients.ddb, config.opsTableName) };
  } catch {
    // Already engaged either way; its details are only for the log and the result.
    return { state: undefined };
  }
}

async function reportDuplicate(
  clients: KillSwitchClients,
  config: KillSwitchConfig,
  previous: { state: KillSwitchState | undefined },
  scheduleState: string | undefined,
  { logger }: Pick<ReturnType<typeof resolve>, 'logger'>,
): Promise<DuplicateResult> {
  const since = previous.state?.engagedAt ?? 'an unknown time';
  const by = previous.state?.engagedBy ?? 'unknown';
  logger.info(`kill switch already engaged since ${since} by ${by}`, {
    engagedAt: previous.state?.engagedAt,
    engagedBy: previous.state?.engagedBy,
    messageId: previous.state?.messageId,
    scheduleState,
  });
  const inconsistent = scheduleState === 'ENABLED';
  if (inconsistent) {
    // Changing nothing is the rule for a duplicate, but silence would hide a batch that runs
    // while the switch claims to hold it.
    logger.error('Kill switch engaged but the batch schedule is ENABLED', { since, by });
    await publishAlert(clients.sns, config, scheduleEnabledNotice(config, since, by)).catch(
      (error: unknown) =>
        logger.error('Cannot publish the inconsistency alert', { error: describeError(error) }),
    );
  }
  return { outcome: 'duplicate', state: previous.state, scheduleState, inconsistent };
}
