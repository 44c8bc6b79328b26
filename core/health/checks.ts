/**
 * The checks' verdicts from the data the AWS calls returned: pure functions, so every rule is
 * tested without mocks. Each takes an {@link Outcome}: a call that failed (after its retries)
 * makes the checks depending on it UNKNOWN, never PASS.
 */

import type { Failure, Service } from '@aws-sdk/client-ecs';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { describeError } from '../errors';
import { BATCH_RUN_FIELDS } from '../ops-table/items';
import { settle as settleAny } from '../parallel';
import type { HealthThresholds, ServiceRef, TargetGroupRef } from './config';
import { type CheckResult, RUNBOOK } from './report';

export { describeError };

/** What an AWS call returned, or why it did not. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

/** Settles `promise` into an {@link Outcome}. */
export async function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  const settled = await settleAny(promise);
  return settled.ok ? settled : { ok: false, error: describeError(settled.error) };
}

/** A count with thousands separators, locale-independent. */
export function count(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A fraction as a percentage with at most two decimals: 0.0042 -> "0.42%". */
export function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}

/** "blue fa-ai-blue-tg": the colour and the name inside targetgroup/<name>/<id>. */
export function targetGroupLabel(ref: TargetGroupRef): string {
  return `${ref.colour} ${ref.targetGroupFullName.split('/')[1] ?? ref.targetGroupFullName}`;
}

// ---------------------------------------------------------------------------------------------
// 1. ECS services

/** What DescribeServices returned for the configured services. */
export interface DescribedServices {
  readonly services: readonly Service[];
  readonly failures: readonly Failure[];
}

const SERVICES_THRESHOLD = 'every service ACTIVE with running = desired tasks';

/**
 * Every service ACTIVE with runningCount = desiredCount; a service scaled to zero (the idle
 * colour) passes. FAIL P0 when no service has a running task (nothing can serve traffic),
 * P1 otherwise.
 */
export function evaluateServices(
  refs: readonly ServiceRef[],
  outcome: Outcome<DescribedServices>,
): CheckResult {
  if (!outcome.ok) {
    return {
      name: 'services',
      status: 'UNKNOWN',
      figure: 'could not describe the services',
      threshold: SERVICES_THRESHOLD,
      runbookSection: RUNBOOK.manual,
      detail: outcome.error,
    };
  }
  const { services, failures } = outcome.value;
  // ECS answers with ARNs (arn:...:service/<cluster>/<name>) in failures, names in services.
  const matches = (name: string, arnOrName: string | undefined) =>
    arnOrName === name || (arnOrName?.endsWith(`/${name}`) ?? false);

  let ok = 0;
  let running = 0;
  const lines: string[] = [];
  for (const ref of refs) {
    const label = `${ref.colour} ${ref.serviceName}`;
    const service = services.find((s) => matches(ref.serviceName, s.serviceName ?? s.serviceArn));
    if (service === undefined) {
      const failure = failures.find((f) => matches(ref.serviceName, f.arn));
      lines.push(`${label}: missing (${failure?.reason ?? 'not returned'})`);
      continue;
    }
    const desired = service.desiredCount ?? 0;
    const run = service.runningCount ?? 0;
    if (service.status !== 'ACTIVE') {
      lines.push(`${label}: ${service.status ?? 'no status'}, ${run}/${desired} running`);
      continue;
    }
    running += run;
    if (run === desired) {
      ok += 1;
      lines.push(desired === 0 ? `${label}: idle (0/0)` : `${label}: ${run}/${desired} running`);
      continue;
    }
    const pending = service.pendingCount ?? 0;
    const rolling = (service.deployments?.length ?? 0) > 1 ? ', deployment in progress' : '';
    lines.push(`${label}: ${run}/${desired} running${pending > 0 ? `, ${pending} pending` : ''}${rolling}`);
  }

  const figure = `${ok}/${refs.length} services running as desired (${running} tasks)`;
  const detail = lines.join('; ');
  if (running === 0) {
    // Every service idle or down is an outage even when each one matches its desired count.
    return {
      name: 'services',
      status: 'FAIL',
      figure,
      threshold: SERVICES_THRESHOLD,
      severity: 'P0',
      runbookSection: RUNBOOK.outage,
      detail: `no running task in any service; ${detail}`,
    };
  }
  if (ok === refs.length) {
    return { name: 'services', status: 'PASS', figure, threshold: SERVICES_THRESHOLD, detail };
  }
  return {
    name: 'services',
    status: 'FAIL',
    figure,
    threshold: SERVICES_THRESHOLD,
    severity: 'P1',
    runbookSection: RUNBOOK.degraded,
    detail,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Target health

// Targets registering (until their first health check) or being deregistered: counted neither
// healthy nor failing, or every deployment would raise an alert.
const TRANSITIONAL_STATES: ReadonlySet<string> = new Set(['initial', 'draining', 'unhealthy.draining']);

const TARGETS_THRESHOLD = '100% healthy';

/**
 * Every target of every target group is healthy; a group without targets (the idle colour)
 * passes. FAIL P0 when no group has a healthy target, P2 when some targets are unhealthy.
 * Registering and draining targets are reported but do not fail the check.
 */
export function evaluateTargets(
  groups: ReadonlyArray<{
    readonly ref: TargetGroupRef;
    readonly outcome: Outcome<TargetHealthDescription[]>;
  }>,
): CheckResult {
  let healthy = 0;
  let unhealthy = 0;
  let transitional = 0;
  const unknown: string[] = [];
  const lines: string[] = [];
  for (const { ref, outcome } of groups) {
    const label = targetGroupLabel(ref);
    if (!outcome.ok) {
      unknown.push(label);
      lines.push(`${label}: unknown (${outcome.error})`);
      continue;
    }
    const targets = outcome.value;
    if (targets.length === 0) {
      lines.push(`${label}: no targets`);
      continue;
    }
    let groupHealthy = 0;
    let groupCounted = 0;
    const notes: string[] = [];
    for (const t of targets) {
      const state = t.TargetHealth?.State ?? 'unknown';
      const where = `${t.Target?.Id ?? '?'}:${t.Target?.Port ?? '?'}`;
      if (state === 'healthy') {
        groupHealthy += 1;
        groupCounted += 1;
      } else if (TRANSITIONAL_STATES.has(state)) {
        transitional += 1;
        notes.push(`${where} ${state}`);
      } else {
        groupCounted += 1;
        notes.push(`${where} ${state}${t.TargetHealth?.Reason ? ` (${t.TargetHealth.Reason})` : ''}`);
      }
    }
    healthy += groupHealthy;
    unhealthy += groupCounted - groupHealthy;
    lines.push(
      `${label}: ${groupHealthy}/${groupCounted} healthy${notes.length > 0 ? ` [${notes.join(', ')}]` : ''}`,
    );
  }

  const figure =
    `${healthy}/${healthy + unhealthy} targets healthy` +
    (transitional > 0 ? ` (${transitional} registering or draining)` : '') +
    (unknown.length > 0 ? `, ${unknown.length} group(s) unknown` : '');
  const detail = lines.join('; ');
  const base = { name: 'targets', figure, threshold: TARGETS_THRESHOLD, detail } as const;
  if (unknown.length === 0 && healthy === 0) {
    return { ...base, status: 'FAIL', severity: 'P0', runbookSection: RUNBOOK.outage };
  }
  if (unhealthy > 0) {
    return { ...base, status: 'FAIL', severity: 'P2', runbookSection: RUNBOOK.unhealthyTargets };
  }
  if (unknown.length > 0) return { ...base, status: 'UNKNOWN', runbookSection: RUNBOOK.manual };
  return { ...base, status: 'PASS' };
}

// ---------------------------------------------------------------------------------------------
// 5. The latest batch run

/** Counts the batch task may write onto its run record: numbers, or numeric strings. */
const reportedCount = z
  .preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z.number().int().nonnegative().optional(),
  )
  // A malformed count is ignored rather than making the whole record unreadable.
  .catch(undefined);

// Lenient: the state machine and the batch task write these; extra attributes are fine.
const batchRunRecordSchema = z.object({
  ...BATCH_RUN_FIELDS,
  executionArn: z.string().optional(),
  successful: reportedCount,
  failed: reportedCount,
  stocksProcessed: reportedCount,
});

/** A batch run record (pk BATCH_RUN) with the per-stock counts the batch task may report. */
export type BatchRunRecord = z.infer<typeof batchRunRecordSchema>;

/** The record of a raw ops table item; throws when a required attribute is missing. */
export function parseBatchRunRecord(item: Record<string, unknown>): BatchRunRecord {
  const parsed = batchRunRecordSchema.safeParse(item);
  if (!parsed.success) {
    throw new Error(`Malformed batch run item ${String(item.sk)}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

function duration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The latest run within the lookback: SUCCEEDED with at least the minimum share of stocks
 * successful (when the task reported counts). Still RUNNING passes until the time limit. No run,
 * a failed, timed-out or overdue run, or too many failed stocks: FAIL P2.
 */
export function evaluateBatch(
  thresholds: HealthThresholds,
  now: Date,
  outcome: Outcome<BatchRunRecord | undefined>,
): CheckResult {
  const threshold = `SUCCEEDED with >= ${percent(thresholds.batchSuccessMin)} of stocks successful`;
  if (!outcome.ok) {
    return {
      name: 'batch',
      status: 'UNKNOWN',
      figure: 'could not read the batch runs',
      threshold,
      runbookSection: RUNBOOK.manual,
      detail: outcome.error,
    };
  }
  const fail = (figure: string, runbookSection: string, detail?: string): CheckResult => ({
    name: 'batch',
    status: 'FAIL',
    figure,
    threshold,
    severity: 'P2',
    runbookSection,
    ...(detail === undefined ? {} : { detail }),
  });
  const run = outcome.value;
  if (run === undefined) {
    const since = new Date(now.getTime() - thresholds.batchLookbackHours * 3_600_000);
    return fail(`no batch run since ${since.toISOString()}`, RUNBOOK.batchFailed);
  }
  const detail = run.executionArn ?? run.sk;
  switch (run.status) {
    case 'RUNNING': {
      const started = Date.parse(run.startedAt);
      if (Number.isNaN(started)) {
        return fail(`RUNNING with an unreadable start time ${run.startedAt}`, RUNBOOK.batchFailed, detail);
      }
      const figure = `running since ${run.startedAt} (${duration(now.getTime() - started)})`;
      if (now.getTime() - started > thresholds.batchMaxRunningMinutes * 60_000) {
        return fail(figure, RUNBOOK.batchSlow, detail);
      }
      return { name: 'batch', status: 'PASS', figure, threshold, detail };
    }
    case 'SUCCEEDED': {
      const when = `SUCCEEDED at ${run.endedAt ?? run.startedAt}`;
      if (run.successful === undefined && run.failed === undefined) {
        return {
          name: 'batch',
          status: 'PASS',
          figure: `${when} (no per-stock counts reported)`,
          threshold,
          detail,
        };
      }
      const ok = run.successful ?? 0;
      const total = ok + (run.failed ?? 0);
      if (total === 0) return fail(`${when} but processed no stocks`, RUNBOOK.batchFailed, detail);
      const rate = ok / total;
      const figure = `${when}: ${count(ok)}/${count(total)} stocks successful (${percent(rate)})`;
      if (rate >= thresholds.batchSuccessMin)
        return { name: 'batch', status: 'PASS', figure, threshold, detail };
      return fail(figure, RUNBOOK.batchFailed, detail);
    }
    case 'TIMED_OUT':
      return fail(`TIMED_OUT (started ${run.startedAt})`, RUNBOOK.batchSlow, detail);
    default:
      return fail(`${run.status} (started ${run.startedAt})`, RUNBOOK.batchFailed, detail);
  }
}
