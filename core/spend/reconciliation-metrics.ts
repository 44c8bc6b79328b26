/**
 * What the daily reconciliation with the providers' bills publishes (lambdas/spend-reconcile),
 * in one place: the alarm catalogue and dashboards read these identities, the Lambda writes
 * them. Imports nothing but the spend contract: constructs and the Lambda bundle both load it.
 *
 * Every metric is published once per run at the run's time (not back-dated to the day it
 * describes), so alarms read the latest run; a duplicate or retried run publishes the same
 * values again, so read them with Maximum (and the heartbeat's absence with SampleCount < 1).
 */

import { AUTOMATION_NAMESPACE } from './metric';

/**
 * The automation's namespace, which the Lambda's Powertools metrics write
 * (lambdas/shared/observability.ts; a test holds the two together).
 */
export const RECONCILIATION_NAMESPACE = AUTOMATION_NAMESPACE;

/** The Powertools `service` dimension every metric of the function carries. */
export const RECONCILIATION_SERVICE = 'spend-reconcile';

/** The two windows each run compares: the reconciled UTC day and its month up to that day. */
export const RECONCILIATION_WINDOWS = ['day', 'month'] as const;
export type ReconciliationWindow = (typeof RECONCILIATION_WINDOWS)[number];

/**
 * The metrics, by name, with the dimensions each carries besides `service`
 * ({@link RECONCILIATION_SERVICE}). Environment is the environment name (dev, staging, prod);
 * Provider `anthropic` | `openai`; Window {@link RECONCILIATION_WINDOWS}.
 */
export const RECONCILIATION_METRICS = {
  /** What the provider's own cost report bills for the window, USD (unit None). */
  LlmBilledCostUsd: { dimensions: ['Environment', 'Provider', 'Window'], unit: 'None' },
  /** What the application reported (sum of LlmCostUsd over components and models), USD. */
  LlmReportedCostUsd: { dimensions: ['Environment', 'Provider', 'Window'], unit: 'None' },
  /**
   * (billed - reported) / max(billed, reported) x 100, in [-100, 100]; positive when the
   * application under-reports; 0 when both are 0. Published only when both sides were read.
   */
  LlmCostDiscrepancyPercent: { dimensions: ['Environment', 'Provider', 'Window'], unit: 'Percent' },
  /**
   * 1 when the day or the month to date was under-reported beyond both the configured percentage
   * and the configured dollar floor, else 0; not published when the bill could not be compared.
   */
  LlmCostUnderReported: { dimensions: ['Environment', 'Provider'], unit: 'Count' },
  /** 1 when the application reported more than the bill beyond both limits, else 0. */
  LlmCostOverReported: { dimensions: ['Environment', 'Provider'], unit: 'Count' },
  /**
   * 1 when a provider could not be reconciled (its bill or the application's figure unreadable,
   * its admin key unset or refused, or the day not yet complete by either clock), else 0.
   */
  LlmCostReconciliationUnknown: { dimensions: ['Environment', 'Provider'], unit: 'Count' },
  /** 1 per run that got as far as publishing its outcome; its absence means nobody reconciles. */
  LlmCostReconciliationHeartbeat: { dimensions: ['Environment'], unit: 'Count' },
} as const;

export type ReconciliationMetricName = keyof typeof RECONCILIATION_METRICS;
