/**
 * The daily reconciliation: what each provider billed (its own cost report) against what the
 * application reported (the LlmCostUsd metric) for one complete UTC day and for its month up to
 * that day. Read-only: it publishes figures and verdicts and changes nothing, so a duplicate or
 * late run is harmless.
 *
 * Outcomes per provider, each with a reason:
 * - reconciled: both sides read; each window is a match, under-reported (the bill is higher:
 *   how overruns hide) or over-reported, by {@link compare}.
 * - unknown: a side could not be read (admin key unset or refused, the provider down or
 *   answering garbage, CloudWatch unreadable), or the day is not final yet by this function's
 *   clock or by the provider's (its `Date` header). Unknown never counts as a match.
 * One provider's failure does not stop the other's reconciliation.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { describeError } from '../../core/errors';
import { type Settled, settle } from '../../core/parallel';
import { LLM_PROVIDERS, type LlmProvider } from '../../core/spend/metric';
import type { ReconciliationWindow } from '../../core/spend/reconciliation-metrics';
import type { ReconcileConfig } from './config';
import type { CostReader, DailyCosts } from './cost-report';
import { ProviderAuthError } from './errors';
import { type ReportedCosts, readReportedCosts } from './reported';
import type { AdminKeys } from './secrets';
import { daysOf, rangeOf, settledAt, type UtcDay } from './window';

/** The clients the reconciliation reads with. */
export interface ReconcileClients {
  readonly cloudwatch: CloudWatchClient;
  readonly keys: AdminKeys;
  /** Each provider's cost report. */
  readonly readers: Readonly<Record<LlmProvider, CostReader>>;
}

/** How one window compares. */
export type Verdict = 'match' | 'under-reported' | 'over-reported';

/** One window of one provider, both sides read. */
export interface WindowComparison {
  readonly window: ReconciliationWindow;
  readonly from: UtcDay;
  readonly to: UtcDay;
  readonly billedUsd: number;
  readonly reportedUsd: number;
  /** billed - reported: positive when the application under-reports. */
  readonly differenceUsd: number;
  /** differenceUsd / max(billed, reported) x 100, in [-100, 100]; 0 when both are 0. */
  readonly discrepancyPercent: number;
  readonly verdict: Verdict;
}

/** Why a provider could not be reconciled. */
export type UnknownReason =
  /** The day is not final yet by this function's clock or the provider's. */
  | 'not-complete'
  /** The admin key secret could not be read or holds no admin key: the provider was not called. */
  | 'admin-key'
  /** The provider refused the key, was unavailable or answered garbage. */
  | 'bill-unreadable'
  /** The application's LlmCostUsd could not be read from CloudWatch. */
  | 'reported-unreadable';

/** One provider's outcome. */
export type ProviderOutcome =
  | {
      readonly provider: LlmProvider;
      readonly status: 'reconciled';
      readonly day: WindowComparison;
      readonly month: WindowComparison;
      readonly underReported: boolean;
      readonly overReported: boolean;
      /** Pages of the provider's cost report read. */
      readonly pages: number;
      /** The provider's clock minus this function's, when it sent a Date header. */
      readonly providerClockSkewSeconds?: number;
    }
  | {
      readonly provider: LlmProvider;
      readonly status: 'unknown';
      readonly reason: UnknownReason;
      /** What went wrong, for the log and a human: the error's name and message. */
      readonly detail: string;
    };

/** What one run found. */
export interface ReconciliationReport {
  readonly environment: string;
  /** The reconciled UTC day. */
  readonly day: UtcDay;
  /** The first day of its month: the month-to-date window is monthStart..day. */
  readonly monthStart: UtcDay;
  readonly providers: readonly ProviderOutcome[];
}

/** The limits beyond which a difference counts. */
export interface DiscrepancyLimits {
  readonly maxDiscrepancyPercent: number;
  readonly minDiscrepancyUsd: number;
}

/** Money to the micro-dollar, percentages to the hundredth: sums of floats carry noise. */
const usd = (value: number) => Math.round(value * 1e6) / 1e6;
const pct = (value: number) => Math.round(value * 100) / 100;

/**
 * The comparison of one window. A difference counts when it is at least `minDiscrepancyUsd`
 * AND more than `maxDiscrepancyPercent` of the larger side: relative to the larger side, so
 * the figure stays in [-100, 100] and means "share of the bill not reported" when the bill is
 * the larger. Both zero is a match; a bill with nothing reported is under-reported by 100%.
 */
export function compare(
  window: ReconciliationWindow,
  from: UtcDay,
  to: UtcDay,
  billed: number,
  reported: number,
  limits: DiscrepancyLimits,
): WindowComparison {
  const billedUsd = usd(billed);
  const reportedUsd = usd(reported);
  const differenceUsd = usd(billedUsd - reportedUsd);
  const larger = Math.max(billedUsd, reportedUsd);
  const discrepancyPercent = larger === 0 ? 0 : pct((differenceUsd / larger) * 100);
  const counts =
    Math.abs(differenceUsd) >= limits.minDiscrepancyUsd &&
    Math.abs(discrepancyPercent) > limits.maxDiscrepancyPercent;
  const verdict: Verdict = !counts ? 'match' : differenceUsd > 0 ? 'under-reported' : 'over-reported';
  return { window, from, to, billedUsd, reportedUsd, differenceUsd, discrepancyPercent, verdict };
}

/** What one run needs besides its clients. */
export interface ReconcileRequest {
  /** The UTC day to reconcile (with its month to date). */
  readonly day: UtcDay;
  /** This function's clock. */
  readonly now: Date;
}

type Read<T> = Settled<T>;

const sumOf = (byDay: ReadonlyMap<UtcDay, number>, days: readonly UtcDay[]) =>
  days.reduce((total, day) => total + (byDay.get(day) ?? 0), 0);

function unknown(provider: LlmProvider, reason: UnknownReason, detail: string): ProviderOutcome {
  return { provider, status: 'unknown', reason, detail };
}

/** Reconciles `request.day` for every provider. Never throws for a provider's or CloudWatch's failure. */
export async function reconcile(
  clients: ReconcileClients,
  config: ReconcileConfig,
  request: ReconcileRequest,
): Promise<ReconciliationReport> {
  const range = rangeOf(request.day);
  const final = settledAt(request.day, config.settleHours);
  const base = { environment: config.environment, day: range.day, monthStart: range.monthStart };
  if (request.now < final) {
    // Nothing is read: a bill of an unfinished day would under-state it and raise a false alarm.
    const detail = `${range.day} is not final until ${final.toISOString()} by this function's clock (${request.now.toISOString()})`;
    return { ...base, providers: LLM_PROVIDERS.map((p) => unknown(p, 'not-complete', detail)) };
  }

  const readBill = async (provider: LlmProvider): Promise<Read<DailyCosts> & { keyRead: boolean }> => {
    const key = await settle(clients.keys.get(provider));
    if (!key.ok) return { ...key, keyRead: false };
    const bill = await settle(clients.readers[provider](key.value, range));
    // A rotated key is read again by the next run instead of being refused all day.
    if (!bill.ok && bill.error instanceof ProviderAuthError) clients.keys.forget(provider);
    return { ...bill, keyRead: true };
  };
  const [reported, ...bills] = await Promise.all([
    settle<ReportedCosts>(readReportedCosts(clients.cloudwatch, config.environment, range)),
    ...LLM_PROVIDERS.map(readBill),
  ]);

  const days = daysOf(range);
  const providers = LLM_PROVIDERS.map((provider, i): ProviderOutcome => {
    const bill = bills[i] as Read<DailyCosts> & { keyRead: boolean };
    if (!bill.ok)
      return unknown(provider, bill.keyRead ? 'bill-unreadable' : 'admin-key', describeError(bill.error));
    const { providerDate } = bill.value;
    if (providerDate !== undefined && providerDate < final) {
      return unknown(
        provider,
        'not-complete',
        `${range.day} is not final until ${final.toISOString()} by ${provider}'s clock (${providerDate.toISOString()})`,
      );
    }
    if (!reported.ok) return unknown(provider, 'reported-unreadable', describeError(reported.error));
    const billed = bill.value.byDay;
    const mine = reported.value[provider];
    const day = compare(
      'day',
      range.day,
      range.day,
      billed.get(range.day) ?? 0,
      mine.get(range.day) ?? 0,
      config,
    );
    const month = compare(
      'month',
      range.monthStart,
      range.day,
      sumOf(billed, days),
      sumOf(mine, days),
      config,
    );
    return {
      provider,
      status: 'reconciled',
      day,
      month,
      underReported: day.verdict === 'under-reported' || month.verdict === 'under-reported',
      overReported: day.verdict === 'over-reported' || month.verdict === 'over-reported',
      pages: bill.value.pages,
      ...(providerDate === undefined
        ? {}
        : { providerClockSkewSeconds: Math.round((providerDate.getTime() - request.now.getTime()) / 1000) }),
    };
  });
  return { ...base, providers };
}
