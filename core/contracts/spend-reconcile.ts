/**
 * The spend reconciliation Lambda's configuration (lambdas/spend-reconcile,
 * lib/constructs/spend-reconciliation.ts).
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { ANTHROPIC_WORKSPACE_ID, OPENAI_PROJECT_ID } from '../spend/scope';
import { wholeNumber } from './common';
import { arn, defineContract, json, number, text, type ValuesOf } from './contract';

/** The bounds of the reconciliation's settings; lib/config's `spend.reconciliation` uses them. */
export const SPEND_RECONCILE_RULES = {
  maxDiscrepancyPercent: z.number().gt(0, 'must be above 0').max(100),
  minDiscrepancyUsd: z.number().nonnegative('must not be negative'),
  settleHours: wholeNumber(0, 72),
  anthropicWorkspaceIds: z.array(
    z.string().regex(ANTHROPIC_WORKSPACE_ID, 'must be a workspace id (wrkspc_...) or default'),
  ),
  openaiProjectIds: z.array(z.string().regex(OPENAI_PROJECT_ID, 'must be a project id (proj_...)')),
} as const;

export const spendReconcileContract = defineContract('spend-reconcile', {
  /** e.g. 'prod': the Environment dimension of the application's metric and of what is published. */
  environment: text('ENVIRONMENT'),
  /** The secret holding Anthropic's admin key. */
  anthropicAdminKeySecretArn: text('ANTHROPIC_ADMIN_KEY_SECRET_ARN', arn),
  /** The secret holding OpenAI's admin key. */
  openaiAdminKeySecretArn: text('OPENAI_ADMIN_KEY_SECRET_ARN', arn),
  /** A difference counts only beyond this share of the larger side, in percent... */
  maxDiscrepancyPercent: number('MAX_DISCREPANCY_PERCENT', SPEND_RECONCILE_RULES.maxDiscrepancyPercent),
  /** ...and only when it is at least this many dollars (cents of noise are not an incident). */
  minDiscrepancyUsd: number('MIN_DISCREPANCY_USD', SPEND_RECONCILE_RULES.minDiscrepancyUsd),
  /** Hours after a UTC day's end before its costs count as final at the provider. */
  settleHours: number('SETTLE_HOURS', SPEND_RECONCILE_RULES.settleHours),
  /** Only these Anthropic workspaces (`default` for the default one); empty: the whole organization. */
  anthropicWorkspaceIds: json('ANTHROPIC_WORKSPACE_IDS', SPEND_RECONCILE_RULES.anthropicWorkspaceIds),
  /** Only these OpenAI projects; empty: the whole organization. */
  openaiProjectIds: json('OPENAI_PROJECT_IDS', SPEND_RECONCILE_RULES.openaiProjectIds),
});
export type SpendReconcileValues = ValuesOf<typeof spendReconcileContract>;
