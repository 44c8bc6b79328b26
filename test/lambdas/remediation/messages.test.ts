import { describe, expect, it } from 'vitest';
import {
  describeAction,
  reportSubject,
  summaryOf,
  unknownAlarmNotice,
} from '../../../lambdas/remediation/messages';
import type { Plan } from '../../../lambdas/remediation/types';

const SCALE: Plan = {
  decision: {
    act: true,
    action: 'scale-out',
    colour: 'blue',
    service: 'fa-ai-system-blue-service',
    step: 2,
    maxCount: 10,
  },
  before: { desiredCount: 4, runningCount: 4, taskDefinition: 'app:7', deploymentId: 'ecs-svc/1' },
  target: 6,
};
const RESTART: Plan = {
  decision: {
    act: true,
    action: 'force-new-deployment',
    colour: 'green',
    service: 'fa-ai-system-green-service',
  },
  before: { desiredCount: 3, runningCount: 3, taskDefinition: 'app:7', deploymentId: 'ecs-svc/1' },
  target: undefined,
};
const INCIDENT = { severity: 'P1', alarmId: 'blue-cpu-high' } as const;

describe('remediation messages', () => {
  it('words a scale-out with its counts and a restart with its running tasks', () => {
    expect(describeAction(SCALE)).toBe(
      'scale the blue (live) service fa-ai-system-blue-service out from 4 to 6 tasks (max 10)',
    );
    expect(describeAction(RESTART, true)).toContain('forced a new deployment of the green (live) service');
    expect(describeAction(RESTART, true)).toContain('its 3 running tasks are replaced');
  });

  it('says why nothing was done: at the max, rate-limited, during a shift', () => {
    expect(summaryOf({ kind: 'at-max', plan: SCALE, maxCount: 10 }, INCIDENT, 'scale-out')).toBe(
      'No action: the blue service fa-ai-system-blue-service already runs its maximum of 10 tasks ' +
        '(desired 4); the alarm paged P1.',
    );
    expect(summaryOf({ kind: 'rate-limited', plan: SCALE, maxPerHour: 3 }, INCIDENT, 'scale-out')).toContain(
      'scale-out rate-limited (3/hour): it already ran 3 times this hour (UTC)',
    );
    const lock = {
      executionArn: 'arn:exec',
      to: 'green',
      acquiredAt: '2026-11-25T04:00:00Z',
      expiresAt: 0,
    } as const;
    expect(summaryOf({ kind: 'shift-in-progress', lock, plan: SCALE }, INCIDENT, 'scale-out')).toContain(
      'a traffic shift to green is in progress (arn:exec, since 2026-11-25T04:00:00Z); scaling out the blue service',
    );
  });

  it('words a dry run as what it would do, and a failure with the failed call', () => {
    expect(summaryOf({ kind: 'dry-run', plan: SCALE }, INCIDENT, 'scale-out')).toBe(
      'DRY RUN, nothing changed: would scale the blue (live) service fa-ai-system-blue-service out from 4 to 6 tasks (max 10).',
    );
    const failure = { call: 'UpdateService', target: 'svc', error: 'AccessDeniedException: no' };
    expect(summaryOf({ kind: 'failed', failure }, INCIDENT, 'scale-out')).toBe(
      'FAILED: scale-out could not be carried out: UpdateService svc: AccessDeniedException: no. ' +
        'The invocation fails and is retried.',
    );
  });

  it("passes the automation's own words through when it held the action", () => {
    expect(summaryOf({ kind: 'held', summary: 'Automation paused by ops.' }, INCIDENT, 'scale-out')).toBe(
      'Automation paused by ops.',
    );
  });

  it('puts the outcome, the colour and the alarm id in the subject', () => {
    const ending = { outcome: 'dry-run', colour: 'blue', decided: { kind: 'dry-run', plan: SCALE } } as const;
    expect(reportSubject(ending, INCIDENT, 'scale-out', 'prod')).toBe(
      '[prod] P1 remediation DRY RUN: would do scale-out of blue (blue-cpu-high)',
    );
    const skipped = {
      outcome: 'skipped',
      skip: 'at-max',
      decided: { kind: 'at-max', plan: SCALE, maxCount: 10 },
    } as const;
    expect(reportSubject(skipped, INCIDENT, 'scale-out', 'prod')).toBe(
      '[prod] P1 remediation: no action, at-max (blue-cpu-high)',
    );
  });

  it('tells of an alarm the catalogue lacks that nothing was done, with the event and how to name alarms', () => {
    const event = {
      id: 'evt-1',
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      time: '2026-11-25T04:12:35Z',
      detail: {
        alarmName: 'fa-ai-system-prod-made-by-hand',
        state: { value: 'ALARM', timestamp: '2026-11-25T04:12:31.146+0000' },
        previousState: { value: 'OK' },
      },
    } as const;
    expect(
      unknownAlarmNotice({ environment: 'prod', severity: 'P1', namePrefix: 'fa-ai-system-prod-', event }),
    ).toEqual({
      subject: '[prod] P1 remediation: unknown alarm fa-ai-system-prod-made-by-hand',
      message: [
        'fa-ai-system-prod-made-by-hand is not in the alarm catalogue of prod: NO automatic remediation ' +
          '(nothing says what it means or what to do).',
        '',
        'Alarm: fa-ai-system-prod-made-by-hand entered ALARM at 2026-11-25T04:12:31.146+0000.',
        'Reason: no reason given',
        '',
        'Look at the alarm and act by hand. Alarms of prod are named fa-ai-system-prod-<id> after an entry of ' +
          'core/alarms/catalogue.ts; give this one an entry (severity, runbook section, response) or delete it.',
        '',
        'Event evt-1.',
      ].join('\n'),
    });
  });
});
