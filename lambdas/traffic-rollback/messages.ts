/**
 * The words of the automatic rollback's notices on the P0 topic: what it did, or why it did
 * nothing, from the facts logic.ts hands over. Nothing here decides or calls AWS.
 */

import { type Recorded, recordedLine } from '../../core/automation';
import type { Notice } from '../../core/notice';
import { formatWeights, type RollbackResult } from '../../core/traffic';

/** The alarm transition acted on (or not). */
export interface AlarmFacts {
  readonly environment: string;
  readonly alarmName: string;
  /** The transition's state time, as the event has it. */
  readonly stateTime: string;
}

/** Why an alarm the catalogue lacks is not acted on: the result's reason and the notice's first line. */
export function unknownAlarmReason(f: Omit<AlarmFacts, 'stateTime'>): string {
  return (
    `${f.alarmName} is not in the alarm catalogue of ${f.environment}, yet its event reached the ` +
    'automatic rollback: nothing was done'
  );
}

export function unknownAlarmNotice(f: AlarmFacts): Notice {
  return {
    subject: `[${f.environment}] Automatic rollback: unknown alarm ${f.alarmName}, NO action`,
    message: [
      `${unknownAlarmReason(f)}.`,
      '',
      `Alarm: ${f.alarmName} in ALARM since ${f.stateTime}.`,
      'Check it and the traffic by hand (`npm run ops -- weights`; to roll back: `npm run ops -- rollback`), ' +
        'and give the alarm an entry in core/alarms/catalogue.ts or take it out of the rollback rule.',
    ].join('\n'),
  };
}

/** "P0 alarm X in ALARM since T: its reason": the rollback's reason and every notice's alarm. */
export function alarmWhy(f: Omit<AlarmFacts, 'environment'> & { readonly stateReason?: string }): string {
  return `P0 alarm ${f.alarmName} in ALARM since ${f.stateTime}${f.stateReason ? `: ${f.stateReason}` : ''}`;
}

/** An event older than the maximum age. */
export interface StaleFacts {
  readonly environment: string;
  /** {@link alarmWhy} */
  readonly why: string;
  readonly alarmAt: Date;
  readonly now: Date;
  readonly ageMinutes: number;
  readonly maxEventAgeMinutes: number;
}

/** Why a stale event is not acted on: the result's reason and the notice's. */
export function staleReason(f: Omit<StaleFacts, 'environment' | 'why'>): string {
  return (
    `the alarm changed state at ${f.alarmAt.toISOString()}, ${Math.round(f.ageMinutes)} minutes before this event ` +
    `was processed (${f.now.toISOString()}), over the ${f.maxEventAgeMinutes}-minute maximum age: ` +
    'its evidence is stale, nothing was done'
  );
}

export function staleNotice(f: StaleFacts): Notice {
  return {
    subject: `[${f.environment}] P0: automatic rollback did NOT act (event ${Math.round(f.ageMinutes)} min old)`,
    message: [
      `The P0 alarm fired (${f.why}), but the automatic rollback (${f.environment}) did NOT act:`,
      `${staleReason(f)}.`,
      '',
      'Check the P0 alarm and the traffic now (`npm run ops -- weights`); to roll back by hand: `npm run ops -- rollback`.',
    ].join('\n'),
  };
}

/** A failure that stopped the rollback: the pause and repeat guard unreadable, or the rollback itself. */
export interface FailureFacts {
  readonly environment: string;
  /** {@link alarmWhy} */
  readonly why: string;
  /** The error, described. */
  readonly error: string;
}

export function automationUnreadableNotice(f: FailureFacts): Notice {
  return {
    subject: `[${f.environment}] P0: automatic rollback did NOT act (automation state unreadable)`,
    message: `The P0 alarm fired (${f.why}); the automatic rollback did NOT act: the automation pause and repeat guard cannot be read (${f.error}). Lambda retries the event; roll back by hand if needed: \`npm run ops -- rollback\`.`,
  };
}

export function rollbackFailedNotice(f: FailureFacts): Notice {
  return {
    subject: `[${f.environment}] Automatic traffic rollback FAILED`,
    message: [
      `The P0 alarm fired (${f.why}) and the automatic rollback (${f.environment}) FAILED:`,
      f.error,
      '',
      'Lambda retries the event; if this repeats, run `npm run ops -- rollback` and check `npm run ops -- weights`.',
    ].join('\n'),
  };
}

/** What the rollback did, or why it changed nothing. */
export interface ResultFacts {
  readonly environment: string;
  /** {@link alarmWhy} */
  readonly why: string;
  readonly result: RollbackResult;
  readonly weightsParameter: string;
  /** The record of a rollback that changed the weights, for the repeat guard and its verification. */
  readonly recorded: Recorded | undefined;
}

export function resultNotice(f: ResultFacts): Notice {
  const { result } = f;
  const lines = [
    result.changed
      ? `The P0 alarm fired and the traffic was rolled back automatically (${f.environment}).`
      : `The P0 alarm fired; the automatic rollback changed nothing (${f.environment}).`,
    '',
    `Alarm: ${f.why}.`,
    `${result.changed ? 'Done' : 'Why nothing'}: ${result.reason}.`,
  ];
  if (result.stoppedExecution) lines.push(`Stopped the running shift: ${result.stoppedExecution}.`);
  if (result.problems.length > 0) {
    lines.push('', 'These follow-up actions failed:', ...result.problems.map((p) => `- ${p}`));
  }
  lines.push(
    '',
    result.changed
      ? `Weights now ${formatWeights(result.restored ?? result.previous ?? { blue: 0, green: 0 })} on the listener and in ${f.weightsParameter}. Check: \`npm run ops -- weights\`.`
      : result.outcome === 'already-rolled-back' || result.outcome === 'no-shift-recorded'
        ? 'The alarm is not caused by a traffic shift still in effect: follow the P0 runbook.'
        : 'To roll back anyway: `npm run ops -- rollback`.',
  );
  if (f.recorded !== undefined) lines.push('', recordedLine(f.recorded));
  return {
    subject: result.changed
      ? `[${f.environment}] P0: traffic rolled back to ${formatWeights(result.restored ?? { blue: 0, green: 0 })}`
      : `[${f.environment}] P0: automatic rollback did nothing (${result.outcome})`,
    message: lines.join('\n'),
  };
}
