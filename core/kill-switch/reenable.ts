/**
 * Re-enabling the batch after the kill switch (`npm run ops -- batch enable`): reads the spend (the
 * very computation the spend guard acts on), then releases the state item (conditional on what
 * was read), acts, and audits the outcome.
 */

import { GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AuditEntry,
  auditItem,
  isConditionFailure,
  type KillSwitchState,
  killSwitchStateItem,
  readKillSwitchState,
  recordAudit,
} from '../ops-table/items';
import { runInParallel } from '../parallel';
import { killThresholdCheck, readSpend, type SpendSettings } from '../spend/read';
import {
  type BatchControlClients,
  BudgetSpendUnknownError,
  BudgetStillExceededError,
  KillSwitchStateChangedError,
  ReenableIncompleteError,
} from './batch';
import {
  describeError,
  publishAction,
  reenabledNotice,
  reenableIncompleteNotice,
  reportFailures,
  resolve,
  scheduleUpdate,
  stateParameterUpdate,
  usd,
} from './messages';
import type { ActionFailure, BatchAction, KillSwitchConfig, RunOptions } from './types';

/** How re-enabling checks the spend: the spend guard's settings and its kill threshold. */
export interface ReenableSpendCheck extends SpendSettings {
  /** Re-enabling is refused while the total spend is at or over this percentage of its limit. */
  readonly killSwitchPercent: number;
}

/** What re-enabling found and did. */
export interface ReenableResult {
  readonly outcome: 'reenabled';
  /** Whether the kill switch was engaged before. */
  readonly wasEngaged: boolean;
  readonly forced: boolean;
  readonly actualSpend: number;
  readonly budgetLimit: number;
  readonly thresholdAmount: number;
  /** The total spend and the figures it was computed from. */
  readonly figures: string;
  readonly auditSk: string;
}

/**
 * Re-enables the batch: refuses with BudgetStillExceededError while the total spend (LLM and AWS,
 * month to date, read as the spend guard reads it) is at or over the kill threshold, and with
 * BudgetSpendUnknownError when some figure cannot be read and what can is under it, unless
 * `force`; then releases the kill switch state (conditional on the state read), enables the
 * schedule and its SSM parameter, publishes a notice and records an audit item with the outcome
 * and the figures. Throws ReenableIncompleteError after reporting when one of those last calls
 * failed (running it again is safe).
 */
export async function reenableBatch(
  clients: BatchControlClients,
  config: KillSwitchConfig,
  spendCheck: ReenableSpendCheck | undefined,
  request: { readonly actor: string; readonly reason: string; readonly force: boolean },
  options: RunOptions = {},
): Promise<ReenableResult> {
  const { now, logger } = resolve(options);
  if (spendCheck === undefined && !request.force) {
    throw new BudgetSpendUnknownError(
      'The deployed stack does not say how to read the spend (its OpsManifest has no spend settings): ' +
        'redeploy it; re-enabling refused (force to override)',
    );
  }
  const [state, reading, schedule] = await Promise.all([
    readKillSwitchState(clients.ddb, config.opsTableName),
    spendCheck ? readSpend(clients, spendCheck, { at: now() }) : undefined,
    clients.scheduler.send(
      new GetScheduleCommand({ Name: config.batchScheduleName, GroupName: config.batchScheduleGroup }),
    ),
  ]);

  const check =
    reading && spendCheck
      ? killThresholdCheck(reading, 'total', spendCheck.killSwitchPercent)
      : {
          state: 'unknown' as const,
          spend: undefined,
          thresholdPercent: undefined,
          thresholdUsd: 0,
          figures: 'not read',
        };
  const actualSpend = check.spend?.spentUsd ?? 0;
  const budgetLimit = check.spend?.limitUsd ?? 0;
  const thresholdAmount = check.thresholdUsd;
  if (check.state === 'unknown' && !request.force) {
    throw new BudgetSpendUnknownError(
      `The total spend cannot be read in full (${reading?.problems.join('; ')}): ${check.figures}. ` +
        `What was read is under the kill threshold ${usd(thresholdAmount)}, the rest is not known; ` +
        're-enabling refused (force to override)',
    );
  }
  if (check.state === 'over' && !request.force) {
    throw new BudgetStillExceededError('total', actualSpend, budgetLimit, thresholdAmount, check.figures);
  }
  const forced = check.state !== 'under' && request.force;
  if (forced) logger.warn('Re-enabling the batch over budget (forced)', { actor: request.actor });

  const at = now();
  const released: KillSwitchState | undefined = state && {
    ...state,
    engaged: false,
    complete: true,
    releasedAt: at.toISOString(),
    releasedBy: request.actor,
    releaseReason: request.reason,
  };
  if (released && state) {
    try {
      await clients.ddb.send(
        new PutCommand({
          TableName: config.opsTableName,
          Item: killSwitchStateItem(released),
          // Released only as read: an engagement in between must win.
          ConditionExpression: '#engagedAt = :engagedAt AND #engaged = :engaged',
          ExpressionAttributeNames: { '#engagedAt': 'engagedAt', '#engaged': 'engaged' },
          ExpressionAttributeValues: { ':engagedAt': state.engagedAt, ':engaged': state.engaged },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new KillSwitchStateChangedError(
          'The kill switch state changed while re-enabling (engaged again?): nothing changed; check and retry',
          { cause: error },
        );
      }
      throw error;
    }
  }

  const scheduleRef = `${config.batchScheduleGroup}/${config.batchScheduleName}`;
  const actions: BatchAction[] = [
    {
      call: 'UpdateSchedule',
      target: scheduleRef,
      run: () => clients.scheduler.send(new UpdateScheduleCommand(scheduleUpdate(schedule, 'ENABLED'))),
    },
    {
      call: 'PutParameter',
      target: config.batchScheduleStateParameter,
      run: () => clients.ssm.send(stateParameterUpdate(config, 'ENABLED')),
    },
    publishAction(
      clients.sns,
      config,
      reenabledNotice(config, request, { check, thresholdAmount, forced, state, scheduleRef }),
    ),
  ];
  const { failed } = await runInParallel(actions, (action) => action.run());
  const failures: ActionFailure[] = failed.map(({ action, error }) => ({
    call: action.call,
    target: action.target,
    error: describeError(error),
  }));
  // The audit item, with the outcome, once the actions are done.
  const auditEntry: AuditEntry = {
    action: 'batch-enable',
    actor: request.actor,
    reason: request.reason,
    source: 'cli',
    outcome: failures.length === 0 ? 'ok' : 'partial',
    environment: config.environment,
    details: {
      forced,
      forceRequested: request.force,
      actualSpend,
      budgetLimit,
      thresholdAmount,
      spendState: check.state,
      figures: check.figures,
      wasEngaged: state?.engaged ?? false,
      engagedAt: state?.engagedAt,
      engagedBy: state?.engagedBy,
      failures: failures.length === 0 ? undefined : failures,
    },
  };
  const audit = auditItem(auditEntry, at);
  if (failures.length > 0) logger.error('Re-enabling the batch partly failed', { failures });
  const [audited] = await Promise.allSettled([
    // recordAudit never overwrites another entry.
    recordAudit(clients.ddb, config.opsTableName, auditEntry, {
      now: at,
      id: audit.id,
    }),
    reportFailures(clients.sns, config, failures, reenableIncompleteNotice(config, request, failures)).catch(
      (error: unknown) => logger.error('Cannot report the failed re-enable', { error: describeError(error) }),
    ),
  ]);
  if (audited.status === 'rejected') {
    failures.push({
      call: 'PutItem',
      target: `${config.opsTableName} (audit)`,
      error: describeError(audited.reason),
    });
  }
  if (failures.length > 0) {
    throw new ReenableIncompleteError(
      `Re-enabling partly failed: ${failures.map((f) => `${f.call} ${f.target}: ${f.error}`).join('; ')}`,
      failures,
    );
  }
  logger.info('Batch re-enabled', { actor: request.actor, forced, actualSpend, budgetLimit });
  return {
    outcome: 'reenabled',
    wasEngaged: state?.engaged ?? false,
    forced,
    actualSpend,
    budgetLimit,
    thresholdAmount,
    figures: check.figures,
    auditSk: audit.sk,
  };
}
