/**
 * The fault matrix: every Lambda handler run through the same faults. Each (handler, fault)
 * pair of {@link MATRIX} is one test, registered with {@link cell} in
 * test/fault-matrix/<handler>.test.ts; coverage.test.ts checks that none is missing.
 */
import { expect, it } from 'vitest';
import { InvalidInputError } from '../../core/errors';
import '../bundles/under-test';
import { awsError } from '../helpers/aws';

export const HANDLERS = [
  'budget-guard',
  'spend-guard',
  'health-check',
  'traffic-shift',
  'traffic-rollback',
  'remediation',
  'db-migrate',
  'db-maintenance',
  'db-inspect',
  'spend-reconcile',
  'automation-verify',
] as const;
export type HandlerName = (typeof HANDLERS)[number];

export const FAULTS = [
  'malformed-event',
  'empty-event',
  'extra-fields',
  'throttling',
  'access-denied',
  'timeout',
  'partial-failure',
  'duplicate-delivery',
] as const;
export type Fault = (typeof FAULTS)[number];

/** What each fault row injects. */
export const FAULT_DESCRIPTIONS: Readonly<Record<Fault, string>> = {
  'malformed-event': 'an event of the wrong shape (wrong type, wrong source, invalid field)',
  'empty-event': 'the event `{}` and `undefined`',
  'extra-fields': 'a valid event plus unknown extra fields',
  throttling: 'the first call(s) fail with ThrottlingException, then succeed',
  'access-denied': 'AccessDeniedException on a mutating call (or its only AWS call)',
  timeout: 'a call rejects with TimeoutError / a database connect times out',
  'partial-failure': 'one of several independent mutations fails',
  'duplicate-delivery': 'the same event delivered twice',
};

export interface MatrixCell {
  readonly handler: HandlerName;
  readonly fault: Fault;
  /** The safe outcome the cell's test asserts (README-quotable). */
  readonly expectation: string;
}

const E: Readonly<Record<HandlerName, Readonly<Record<Fault, string>>>> = {
  'budget-guard': {
    'malformed-event': 'InvalidInputError; no AWS call at all',
    'empty-event': 'InvalidInputError for {} and undefined; no AWS call at all',
    'extra-fields': 'unknown fields ignored: engages exactly as the plain event',
    throttling: 'throttled UpdateSchedule retried: same result and calls as unthrottled',
    'access-denied':
      'denied state write: KillSwitchNotEngagedError, no action taken, P1 alert says batch NOT disabled',
    timeout: 'state write timing out past retries: KillSwitchNotEngagedError, no action taken, alert',
    'partial-failure':
      'denied StopTask: every other action still made, KillSwitchIncompleteError, alert and audit "partial"',
    'duplicate-delivery': 'second delivery: outcome "duplicate", no mutation, no publish',
  },
  'spend-guard': {
    'malformed-event': 'InvalidInputError; no AWS call at all',
    'empty-event': 'InvalidInputError for {} and undefined; no AWS call at all',
    'extra-fields': 'unknown fields ignored: the same actions as the plain event',
    throttling:
      'throttled GetMetricData and DescribeBudget retried: the same spend and actions as unthrottled',
    'access-denied':
      'denied GetMetricData: "spend unknown" paged, nothing disabled, no threshold recorded (figures not read)',
    timeout:
      'DescribeBudget timing out past retries: AWS spend unknown, paged; acts only on the LLM spend it read',
    'partial-failure':
      'denied StopExecution: the kill switch does every other action, the threshold stays incomplete, SpendGuardIncompleteError',
    'duplicate-delivery': 'second delivery: no action, no publish, no item changed',
  },
  'health-check': {
    'malformed-event': 'InvalidInputError; no AWS call at all',
    'empty-event': 'InvalidInputError for {} and undefined; no AWS call at all',
    'extra-fields': 'unknown fields ignored: same report as the plain event',
    throttling: 'throttled reads retried: same report (all PASS) as unthrottled',
    'access-denied': 'denied Publish (its only write): the invocation fails with the AWS error, no Heartbeat',
    timeout: 'a read timing out past retries: that check UNKNOWN (never PASS), reported to P2',
    'partial-failure':
      'one read denied: the other checks still run and PASS, the failed one UNKNOWN, P2 report',
    'duplicate-delivery': 'read-only: a second run gives the same report and changes no state',
  },
  'traffic-shift': {
    'malformed-event': 'InvalidInputError; no AWS call at all',
    'empty-event': 'InvalidInputError for {} and undefined; no AWS call at all',
    'extra-fields': 'unknown fields ignored: setWeights writes the same weights as the plain event',
    throttling: 'throttled ModifyListener retried: same weights and audit as unthrottled',
    'access-denied':
      'denied ModifyListener: WeightsPartiallyWrittenError thrown, audit outcome "failed", listener unchanged',
    timeout: 'LAST_SHIFT read timing out past retries: TimeoutError thrown, no weights written',
    'partial-failure':
      'denied PutParameter: the listener is still written, WeightsPartiallyWrittenError, audit "failed"',
    'duplicate-delivery':
      'setWeights twice: same listener, parameter and LAST_SHIFT; only an audit line more',
  },
  'traffic-rollback': {
    'malformed-event': 'InvalidInputError; no AWS call, listener unchanged',
    'empty-event': 'InvalidInputError for {} and undefined; no AWS call at all',
    'extra-fields': 'unknown fields ignored: rolls back exactly as the plain event',
    throttling: 'throttled ModifyListener retried: rolled back, same result as unthrottled',
    'access-denied': 'denied weights writes: WeightsNotWrittenError thrown, FAILED notification',
    timeout: 'ModifyListener timing out past retries: named WeightsWriteError, FAILED notification',
    'partial-failure':
      'denied StopExecution: weights still restored, LAST_SHIFT marked, problem listed in result and notice',
    'duplicate-delivery': 'second delivery: "already-rolled-back", no ModifyListener, no second audit',
  },
  remediation: {
    'malformed-event': 'InvalidInputError; no AWS call at all',
    'empty-event': 'InvalidInputError for {} and undefined; no AWS call at all',
    'extra-fields': 'unknown fields ignored: remediates exactly as the plain event',
    throttling: 'throttled UpdateService retried: remediated, same result as unthrottled',
    'access-denied': 'denied UpdateService: RemediationFailedError, audit "failed", FAILED P1 report',
    timeout: 'UpdateService timing out past retries: RemediationFailedError, audit "failed", report',
    'partial-failure':
      'one mutation only: the single UpdateService either happens (audited ok) or the invocation fails',
    'duplicate-delivery': 'second delivery: outcome "duplicate", one UpdateService, one report, one audit',
  },
  'db-migrate': {
    'malformed-event': 'InvalidInputError naming the field; no secret read, no connection',
    'empty-event': 'InvalidInputError for {} and undefined; no secret read, no connection',
    'extra-fields': 'unknown fields (and ServiceToken) ignored: migrates as the plain event',
    throttling:
      'GetSecretValue retried with backoff: the same result as without throttling (Applied 1, index created)',
    'access-denied':
      'denied GetSecretValue: AccessDeniedException thrown, no connection, MigrationRunsFailed',
    timeout: 'connect timeout: DependencyUnavailableError, no statement sent',
    'partial-failure':
      'migrations are ordered, not independent: a failing one throws MigrationFailedError and leaves no trace',
    'duplicate-delivery': 'same Create twice: the second applies 0 migrations and leaves the index unchanged',
  },
  'db-maintenance': {
    'malformed-event': 'InvalidInputError; no secret read, no connection',
    'empty-event': 'InvalidInputError for {} and undefined; no secret read, no connection',
    'extra-fields': 'unknown fields ignored: archives as the plain event',
    throttling:
      'GetSecretValue retried with backoff: the same result as without throttling (3 rows archived)',
    'access-denied': 'denied GetSecretValue: AccessDeniedException thrown, no connection, MaintenanceFailed',
    timeout: 'connect timeout: DependencyUnavailableError, nothing archived, MaintenanceFailed',
    'partial-failure':
      'archive denied: ANALYZE and the index check still run, MaintenanceError names the archive, no row lost',
    'duplicate-delivery': 'monthly twice: the second archives 0 rows, no row lost or duplicated',
  },
  'db-inspect': {
    'malformed-event': 'InvalidInputError naming the field; no secret read, no connection',
    'empty-event': 'InvalidInputError for {} and undefined; no secret read, no connection',
    'extra-fields': 'unknown fields (SQL included) ignored: the same reports as the plain event',
    throttling: 'GetSecretValue retried with backoff: the same reports as without throttling',
    'access-denied': 'denied GetSecretValue: AccessDeniedException thrown, no connection, InspectionFailed',
    timeout: 'connect timeout: DependencyUnavailableError, no statement sent',
    'partial-failure':
      'one report failing: reported failed with its SQLSTATE, the other reports still run and return',
    'duplicate-delivery': 'read-only: the same event twice gives the same reports and changes nothing',
  },
  'spend-reconcile': {
    'malformed-event': 'InvalidInputError; no AWS call, no provider request',
    'empty-event': 'InvalidInputError for {} and undefined; no AWS call, no provider request',
    'extra-fields': 'unknown fields ignored: reconciles exactly as the plain event',
    throttling: 'throttled GetMetricData and GetSecretValue retried: the same report as unthrottled',
    'access-denied':
      'denied GetSecretValue of one admin key: that provider unknown and never called, the other reconciled',
    timeout:
      'GetMetricData timing out past retries: both providers unknown (never a match), heartbeat still sent',
    'partial-failure':
      "one provider's report unavailable (5xx past retries): the other reconciled and published, the failure reported",
    'duplicate-delivery': 'read-only: a second delivery gives the same report and metrics, keys read once',
  },
  'automation-verify': {
    'malformed-event': 'InvalidInputError; no AWS call at all, not even the record read',
    'empty-event': 'InvalidInputError for {} and undefined; no AWS call at all',
    'extra-fields':
      'unknown fields refused (the payload is strict and versioned): InvalidInputError, nothing read or written',
    throttling:
      'throttled reads, record write and Publish retried: the same outcome and one escalation as unthrottled',
    'access-denied':
      'denied Publish: EscalationNotSentError, the outcome written with its escalation pending, the retry sends it',
    timeout:
      'a read timing out past retries: MISSING (never ok), escalated; a lost write answer is not taken for a race',
    'partial-failure':
      'audit write failing: outcome still written, escalation still sent; the "sent" mark failing: one page only',
    'duplicate-delivery':
      'second delivery: "duplicate", nothing read again, one outcome, one escalation, one audit',
  },
};

/** Every (handler, fault) cell and its expected safe outcome. */
export const MATRIX: readonly MatrixCell[] = HANDLERS.flatMap((handler) =>
  FAULTS.map((fault) => ({ handler, fault, expectation: E[handler][fault] })),
);

/** The expectation text of one cell. */
export function expectation(handler: HandlerName, fault: Fault): string {
  return E[handler][fault];
}

/** Registers the test of one cell, titled by its fault and expectation. */
export function cell(handler: HandlerName, fault: Fault, fn: () => Promise<void>): void {
  it(`[${handler} x ${fault}] ${expectation(handler, fault)}`, fn);
}

/** The matrix as a Markdown table (handler x fault). */
export function markdownTable(): string {
  const header = `| fault | ${HANDLERS.join(' | ')} |`;
  const rule = `|---|${HANDLERS.map(() => '---').join('|')}|`;
  const rows = FAULTS.map((f) => `| ${f} | ${HANDLERS.map((h) => E[h][f]).join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}

/** Each of `events` refused with InvalidInputError, and no AWS call made (`awsCalls` counts them). */
export async function expectRefused(
  handle: (event: unknown) => Promise<unknown>,
  events: readonly unknown[],
  awsCalls: () => number,
): Promise<void> {
  for (const event of events) await expect(handle(event)).rejects.toBeErrorOf(InvalidInputError);
  expect(awsCalls()).toBe(0);
}

export const throttled = () => awsError('ThrottlingException', 'Rate exceeded');
export const denied = (action: string) =>
  awsError(
    'AccessDeniedException',
    `User: arn:aws:sts::222222222222:assumed-role/x is not authorized to perform: ${action}`,
  );
export const timedOut = () =>
  Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError', code: 'ETIMEDOUT' });

/**
 * `value` with the random parts of audit keys and ids masked (they are not drawn from the
 * injected id source), so that two runs can be compared.
 */
export function stable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value)
      .replace(/(\.\d{3}Z)#[0-9a-f]{8}/g, '$1#<random>')
      .replace(/"id":"[0-9a-f]{8}"/g, '"id":"<random>"')
      // The verification schedule of an automated action (core/automation/record.ts).
      .replace(/(verify-[a-z-]+-\d+-)[0-9a-f]{8}/g, '$1<random>'),
  );
}

export { awsError };
