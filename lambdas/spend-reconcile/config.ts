/**
 * The function's configuration: the spend reconciliation contract's values
 * (core/contracts/spend-reconcile.ts), which the construct writes and this function parses.
 */
import type { FunctionEnv } from '../../core/contracts/contract';
import { spendReconcileContract } from '../../core/contracts/spend-reconcile';
import type { LlmProvider } from '../../core/spend/metric';

/** What the reconciliation compares and when a difference counts. */
export interface ReconcileConfig {
  /** e.g. 'prod': the Environment dimension of the application's metric and of what is published. */
  readonly environment: string;
  /** The secrets holding each provider's admin key. */
  readonly adminKeySecretArns: Readonly<Record<LlmProvider, string>>;
  /** A difference counts only beyond this share of the larger side, in percent... */
  readonly maxDiscrepancyPercent: number;
  /** ...and only when it is at least this many dollars (cents of noise are not an incident). */
  readonly minDiscrepancyUsd: number;
  /** Hours after a UTC day's end before its costs count as final at the provider. */
  readonly settleHours: number;
  /** Only these Anthropic workspaces (`default` for the default one); empty: the whole organization. */
  readonly anthropicWorkspaceIds: readonly string[];
  /** Only these OpenAI projects; empty: the whole organization. */
  readonly openaiProjectIds: readonly string[];
}

/** The environment variables the function reads (the variables of spendReconcileContract). */
export type ReconcileEnv = FunctionEnv;

/** The configuration in `env`; InvalidInputError naming every bad variable otherwise. */
export function configFromEnv(env: ReconcileEnv): ReconcileConfig {
  const v = spendReconcileContract.parse(env);
  return {
    environment: v.environment,
    adminKeySecretArns: { anthropic: v.anthropicAdminKeySecretArn, openai: v.openaiAdminKeySecretArn },
    maxDiscrepancyPercent: v.maxDiscrepancyPercent,
    minDiscrepancyUsd: v.minDiscrepancyUsd,
    settleHours: v.settleHours,
    anthropicWorkspaceIds: v.anthropicWorkspaceIds,
    openaiProjectIds: v.openaiProjectIds,
  };
}
