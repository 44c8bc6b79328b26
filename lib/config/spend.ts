import { z } from 'zod';
import { KILL_SWITCH_PERCENT } from '../../core/contracts/kill-switch';
import { SPEND_GUARD_RULES } from '../../core/contracts/spend-guard';
import { SPEND_RECONCILE_RULES } from '../../core/contracts/spend-reconcile';
import { SPEND_BUDGETS } from '../../core/spend/budgets';
import { dollars } from './fields';

/** AWS Budgets of the environment (runbook: Budget Alerts). */
export const budgetsSchema = z
  .object({
    /** Monthly total; the kill switch engages at killSwitchPercent of it. */
    monthlyUsd: dollars,
    /** Budgets by the Component cost-allocation tag. */
    componentsUsd: z.object({ batch: dollars, interactive: dollars, infrastructure: dollars }),
    killSwitchPercent: KILL_SWITCH_PERCENT.default(100),
  })
  .refine(
    (b) =>
      b.componentsUsd.batch + b.componentsUsd.interactive + b.componentsUsd.infrastructure <= b.monthlyUsd,
    { path: ['componentsUsd'], message: 'component budgets must not add up to more than monthlyUsd' },
  );

/**
 * `spend.guard`: the spend guard (runbook: Budget Alerts, on all spend: LLM from the application's LlmCostUsd
 * metric, AWS from Budgets). The budgets and the kill threshold are `budgets`' own.
 */
const spendGuardSchema = z
  .object({
    /** Minutes between runs: the detection latency, plus CloudWatch's metric delay. */
    scheduleMinutes: z
      .number()
      .int()
      .min(1)
      .max(15, 'must be at most 15 (a threshold is acted on within the schedule plus the metric delay)')
      .default(15),
    /**
     * The budgets whose kill threshold (budgets.killSwitchPercent) disables the batch; the others
     * page at it. The runbook's actions apply to each budget, so all four by default.
     */
    killSwitchBudgets: SPEND_GUARD_RULES.killSwitchBudgets.default([...SPEND_BUDGETS]),
    /** No month-end projection before this many days (one weekly batch run projects to several budgets). */
    forecastMinDays: SPEND_GUARD_RULES.forecastMinDays.default(7),
    /** A single model call reported above this is not believed (a unit error): its day is left out and paged. */
    maxCallCostUsd: SPEND_GUARD_RULES.maxCallCostUsd.default(10),
    /** Hours into a month in which AWS Budgets' figure is not counted: it may still show the month that ended. */
    awsSettleHours: SPEND_GUARD_RULES.awsSettleHours.default(12),
    /** Minutes into a month in which the month that ended is read again for late data (0: never). */
    lateDataMinutes: SPEND_GUARD_RULES.lateDataMinutes.default(30),
    /** While some spend cannot be read, the page is repeated after this many minutes. */
    unknownRenotifyMinutes: SPEND_GUARD_RULES.unknownRenotifyMinutes.default(60),
    /** LLM cost data must appear within this window while queries or a batch run go on. */
    silenceWindowMinutes: SPEND_GUARD_RULES.silenceWindowMinutes.default(30),
  })
  .prefault({})
  .refine((g) => g.lateDataMinutes === 0 || g.lateDataMinutes >= g.scheduleMinutes, {
    path: ['lateDataMinutes'],
    message: 'must be 0 or at least scheduleMinutes (a run must fall inside it)',
  });

/**
 * The daily reconciliation of the application's LLM cost (the LlmCostUsd metric) with the
 * providers' own cost reports (lambdas/spend-reconcile). Under-reporting is how overruns hide.
 */
const reconciliationSchema = z
  .object({
    /** Local hour (timeZone) of the daily run. */
    hour: z.number().int().min(0).max(23).default(6),
    /**
     * A difference between billed and reported cost counts when it is more than this share of
     * the larger side (in percent) and at least minDiscrepancyUsd, on the day or the month to date.
     */
    maxDiscrepancyPercent: SPEND_RECONCILE_RULES.maxDiscrepancyPercent.default(5),
    /** Dollars below which a difference is noise, whatever its share. */
    minDiscrepancyUsd: SPEND_RECONCILE_RULES.minDiscrepancyUsd.default(1),
    /**
     * Hours after a UTC day ends before the providers' reports of it count as final; a day
     * not final yet (by the function's clock or the provider's) is not reconciled.
     */
    settleHours: SPEND_RECONCILE_RULES.settleHours.default(6),
    /**
     * Only these Anthropic workspaces (`default` for the default one) when the organization
     * also bills other systems or environments. Empty: the whole organization.
     */
    anthropicWorkspaceIds: SPEND_RECONCILE_RULES.anthropicWorkspaceIds.default([]),
    /** Only these OpenAI projects (proj_...), likewise. Empty: the whole organization. */
    openaiProjectIds: SPEND_RECONCILE_RULES.openaiProjectIds.default([]),
  })
  .prefault({});

/** LLM spend beyond what AWS Budgets sees (issue #17). */
export const spendSchema = z
  .object({ reconciliation: reconciliationSchema, guard: spendGuardSchema })
  .prefault({});
