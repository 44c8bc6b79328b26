/**
 * The kill switch under core/automation: a budget notification engages it only when the
 * automation is not paused and the engagement does not repeat (more than `repeat.max` for the
 * budget within the window escalates P1 -> P0 instead); once engaged, its effect (schedule
 * DISABLED, no RUNNING execution) is read back after `verifyAfterMinutes`. A human's
 * `batch disable` is not automation and does not come through here.
 */

import {
  type AutomationSettings,
  checkBeforeActing,
  type Gate,
  type Intent,
  recordAction,
  reportHeld,
} from '../automation';
import { describeError } from '../errors';
import { type Notice, tryPublishNotice } from '../notice';
import { engageKillSwitch } from './engage';
import { automationUnreadableNotice, verificationNotScheduledNotice } from './messages';
import type { EngageResult, EngageTrigger, KillSwitchClients, KillSwitchConfig, RunOptions } from './types';

/** The engagement was held: paused, or repeating (escalated); a human was told. */
export interface HeldResult {
  readonly outcome: 'held';
  readonly held: 'paused' | 'repeated';
  readonly notified: boolean;
  readonly reason: string;
}

/** The options of an automated engagement: the automation settings (the AUTOMATION variable). */
export type AutomatedRunOptions = RunOptions & { readonly automation: AutomationSettings };

/**
 * Engages the kill switch for a notification unless the pause or the repeat guard holds it;
 * records the engagement and schedules its verification. Throws as engageKillSwitch, and when
 * the pause or the guard cannot be read (after telling the alert topic that nothing was done).
 */
export async function engageUnlessHeld(
  clients: KillSwitchClients,
  config: KillSwitchConfig,
  trigger: EngageTrigger & { readonly budget: NonNullable<EngageTrigger['budget']> },
  options: AutomatedRunOptions,
): Promise<EngageResult | HeldResult> {
  const { automation } = options;
  const now = (options.now ?? (() => new Date()))();
  const schedule = `${config.batchScheduleGroup}/${config.batchScheduleName}`;
  const intent: Intent = {
    action: 'kill-switch-engage',
    trigger: trigger.budget.name,
    severity: 'P1',
    // The budget guard or the spend guard: who would have acted, in the notices and the audit.
    source: trigger.source,
    wouldDo: `engaged the kill switch (disabled the batch schedule ${schedule}, stopped the running batch work): ${trigger.reason}`,
  };
  let gate: Gate;
  try {
    gate = await checkBeforeActing(clients.ddb, automation, intent, { now });
  } catch (error) {
    await tell(
      clients,
      config,
      options,
      automationUnreadableNotice(config.environment, trigger.reason, describeError(error)),
    );
    throw error;
  }
  if (!gate.act) {
    const held = await reportHeld(clients, automation, intent, gate, {
      now,
      details: { budget: trigger.budget, messageId: trigger.messageId },
    });
    return { outcome: 'held', held: gate.kind, notified: held.notified, reason: gate.summary };
  }

  const result = await engageKillSwitch(clients, config, trigger, options);
  if (result.outcome !== 'engaged') return result;
  const recorded = await recordAction(
    clients,
    automation,
    {
      ...intent,
      did: `Engaged the kill switch (${trigger.reason}): schedule ${schedule} disabled, ${result.stoppedExecutions.length} execution(s) and ${result.stoppedTasks.length} task(s) stopped.`,
      auditSk: result.auditSk,
      checks: [
        {
          kind: 'kill-switch',
          scheduleName: config.batchScheduleName,
          scheduleGroup: config.batchScheduleGroup,
          stateMachineArn: config.batchStateMachineArn,
        },
      ],
    },
    { now },
  );
  if (recorded.problems.length > 0) {
    // The engagement's own report went out already: a human must know nobody will check it.
    await tell(
      clients,
      config,
      options,
      verificationNotScheduledNotice(config.environment, trigger.reason, recorded.problems),
    );
  }
  return result;
}

/** Best effort: a failed notice is only logged. */
async function tell(
  clients: KillSwitchClients,
  config: KillSwitchConfig,
  options: RunOptions,
  notice: Notice,
): Promise<void> {
  await tryPublishNotice(clients.sns, config.alertTopicArn, notice, (error) =>
    options.logger?.error('Cannot publish the kill switch notice', { error: describeError(error) }),
  );
}
