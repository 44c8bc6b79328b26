/**
 * The words of the remediation: the summary of what was decided, the SNS subject and message.
 * Decisions (logic.ts) hand over data (types.ts `Decided`, `Ending`); nothing here decides.
 */

import type { Severity } from '../../core/alarms/vocabulary';
import { recordedLine } from '../../core/automation';
import type { Notice } from '../../core/notice';
import { formatWeights } from '../../core/traffic';
import type { AlarmStateChangeEvent } from '../shared/alarm-event';
import type { RemediationAction, RemediationConfig } from './config';
import { liveColourOf } from './mapping';
import type { CallFailure, Decided, Ending, Incident, Plan, ServiceSnapshot } from './types';

/** The runbook step each action carries out. */
export const RUNBOOK: Readonly<Record<RemediationAction, string>> = {
  'force-new-deployment':
    'Runbook: Common Issues > Database Connection Pool Exhausted > Immediate Fix: restart the tasks to ' +
    'reset their connections. If the pool fills up again, look for connection leaks and long queries.',
  'scale-out':
    'Runbook: Incident Response > P0: Complete Service Outage > Resource exhaustion (CPU/memory): scale ' +
    'up the task count. Auto scaling may scale back in once the load drops.',
};

/** "force a new deployment of the blue service X (N tasks)" / "scale ... out from 2 to 3 tasks". */
export function describeAction({ decision, before, target }: Plan, past = false): string {
  if (decision.action === 'force-new-deployment') {
    return (
      `${past ? 'forced' : 'force'} a new deployment of the ${decision.colour} (live) service ${decision.service}: ` +
      `its ${before.runningCount ?? 'unknown number of'} running tasks ${past ? 'are' : 'would be'} replaced, ` +
      'which resets their database connections'
    );
  }
  return (
    `${past ? 'scaled' : 'scale'} the ${decision.colour} (live) service ${decision.service} out from ` +
    `${before.desiredCount ?? 'unknown'} to ${target ?? 'unknown'} tasks (max ${decision.maxCount})`
  );
}

/** "Scaled the blue (live) service X out from 2 to 3 tasks (max 10)." */
export function didSentence(plan: Plan): string {
  return `${capitalize(describeAction(plan, true))}.`;
}

/** Why a duplicate delivery does nothing. */
export function duplicateReason(eventId: string, previousStatus: string | undefined): string {
  return (
    `event ${eventId} was already handled (marker status ${previousStatus ?? 'unknown'}): ` +
    'a duplicate delivery, NO action'
  );
}

/** What was done, would be done, or why nothing was: the result's and the audit's summary. */
export function summaryOf(
  decided: Decided,
  incident: Pick<Incident, 'severity'>,
  action: RemediationAction,
): string {
  switch (decided.kind) {
    case 'not-acting':
      return `No action: ${decided.reason}.`;
    case 'shift-in-progress': {
      const { lock } = decided;
      const { decision } = decided.plan;
      return (
        `No action: a traffic shift to ${lock.to} is in progress (${lock.executionArn}, since ` +
        `${lock.acquiredAt}); ${decision.action === 'scale-out' ? 'scaling out' : 'restarting'} the ` +
        `${decision.colour} service ${decision.service} now could trip its alarm gates and roll it back. ` +
        `The alarm paged ${incident.severity}: decide by hand, or wait for the shift to end.`
      );
    }
    case 'at-max': {
      const { decision, before } = decided.plan;
      return (
        `No action: the ${decision.colour} service ${decision.service} already runs its maximum of ` +
        `${decided.maxCount} tasks (desired ${before.desiredCount ?? 'unknown'}); the alarm paged ${incident.severity}.`
      );
    }
    case 'dry-run':
      return `DRY RUN, nothing changed: would ${describeAction(decided.plan)}.`;
    case 'held':
      return decided.summary;
    case 'rate-limited': {
      const { decision } = decided.plan;
      return (
        `No action: ${action} rate-limited (${decided.maxPerHour}/hour): it already ran ` +
        `${decided.maxPerHour} times this hour (UTC); the ${decision.colour} service ${decision.service} was left as is.`
      );
    }
    case 'failed': {
      const { failure } = decided;
      return (
        `FAILED: ${action} could not be carried out: ${failure.call} ${failure.target}: ` +
        `${failure.error}. The invocation fails and is retried.`
      );
    }
    case 'remediated':
      return `${didSentence(decided.plan)} ${recordedLine(decided.recorded)}`;
  }
}

/** The SNS subject of a report (before snsSubject's cut). */
export function reportSubject(
  ending: Ending,
  incident: Pick<Incident, 'severity' | 'alarmId'>,
  action: RemediationAction,
  environment: string,
): string {
  const head = `[${environment}] ${incident.severity} remediation`;
  const colour = ending.colour ?? 'live colour';
  const what = action === 'force-new-deployment' ? `new deployment of ${colour}` : `scale-out of ${colour}`;
  switch (ending.outcome) {
    case 'remediated':
      return `${head}: ${what} (${incident.alarmId})`;
    case 'dry-run':
      return `${head} DRY RUN: would do ${what} (${incident.alarmId})`;
    case 'skipped':
      return `${head}: no action, ${ending.skip ?? 'skipped'} (${incident.alarmId})`;
    case 'failed':
      return `${head} FAILED: ${what} (${incident.alarmId})`;
  }
}

/** What the report's message needs besides the ending. */
export interface ReportContext {
  readonly incident: Incident;
  readonly config: Pick<RemediationConfig, 'ecsCluster'>;
  readonly action: RemediationAction;
  readonly maxPerHour: number;
  readonly dryRun: boolean;
  readonly auditSk: string;
}

/** The SNS message of a report. */
export function reportMessage(ending: Ending, summary: string, context: ReportContext): string {
  const { incident, config, action } = context;
  const lines = [
    summary,
    '',
    `Alarm: ${incident.alarmName} (${incident.severity}) entered ALARM at ${incident.stateTime}.`,
    `Reason: ${incident.stateReason}`,
  ];
  if (ending.weights !== undefined) {
    const live = liveColourOf(ending.weights);
    lines.push(
      `Live colour: ${live ?? 'none (equal weights)'} (stored weights ${formatWeights(ending.weights)}).`,
    );
  }
  if (ending.service !== undefined) {
    lines.push(`Service: ${ending.service} (cluster ${config.ecsCluster}).`);
  }
  if (ending.before !== undefined) lines.push(`Before: ${formatSnapshot(ending.before)}.`);
  if (ending.after !== undefined) lines.push(`After: ${formatSnapshot(ending.after)}.`);
  if (ending.slot !== undefined) {
    lines.push(`Rate limit: ${ending.slot} of ${context.maxPerHour} ${action} this hour.`);
  }
  lines.push('', RUNBOOK[action]);
  if (ending.outcome === 'failed') {
    lines.push(
      'Nothing was changed by this attempt unless the failed call landed; do the runbook step by hand if ' +
        'the alarm persists.',
    );
  } else if (ending.outcome !== 'remediated') {
    lines.push('Nothing was changed: follow the runbook by hand if the alarm persists.');
  }
  lines.push(
    '',
    `Event ${incident.eventId}; audit ${context.auditSk} (npm run ops -- remediation log).${context.dryRun ? ' Dry run is on.' : ''}`,
  );
  return lines.join('\n');
}

/** "desired 3, running 2, deployment ecs-svc/1, task definition app:7". */
export function formatSnapshot(s: Partial<ServiceSnapshot>): string {
  const parts = [
    s.desiredCount === undefined ? undefined : `desired ${s.desiredCount}`,
    s.runningCount === undefined ? undefined : `running ${s.runningCount}`,
    s.deploymentId === undefined ? undefined : `deployment ${s.deploymentId}`,
    s.taskDefinition === undefined ? undefined : `task definition ${s.taskDefinition.split('/').pop()}`,
  ];
  return parts.filter((p) => p !== undefined).join(', ') || 'unknown';
}

export function formatFailure(f: CallFailure): string {
  return `${f.call} ${f.target}: ${f.error}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An alarm of the environment (its name has the prefix) that the alarm catalogue lacks. */
export interface UnknownAlarmFacts {
  readonly environment: string;
  /** The topic told. */
  readonly severity: Severity;
  /** The environment's alarm name prefix. */
  readonly namePrefix: string;
  readonly event: AlarmStateChangeEvent;
}

/** Why an unknown alarm is not remediated: the result's reason and the notice's first line. */
export function unknownAlarmReason({
  environment,
  event,
}: Pick<UnknownAlarmFacts, 'environment' | 'event'>): string {
  return (
    `${event.detail.alarmName} is not in the alarm catalogue of ${environment}: NO automatic remediation ` +
    '(nothing says what it means or what to do)'
  );
}

export function unknownAlarmNotice(f: UnknownAlarmFacts): Notice {
  const { environment, severity, event } = f;
  const { alarmName } = event.detail;
  return {
    subject: `[${environment}] ${severity} remediation: unknown alarm ${alarmName}`,
    message: [
      `${unknownAlarmReason(f)}.`,
      '',
      `Alarm: ${alarmName} entered ALARM at ${event.detail.state.timestamp ?? event.time}.`,
      `Reason: ${event.detail.state.reason ?? 'no reason given'}`,
      '',
      `Look at the alarm and act by hand. Alarms of ${environment} are named ` +
        `${f.namePrefix}<id> after an entry of core/alarms/catalogue.ts; ` +
        'give this one an entry (severity, runbook section, response) or delete it.',
      '',
      `Event ${event.id}.`,
    ].join('\n'),
  };
}
