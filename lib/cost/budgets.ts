import { isEnvironmentName, loadEnvironmentConfig } from '../config';
import type { AssemblyEstimate } from './types';

/** An environment's fixed monthly estimate against its infrastructure budget. */
export interface BudgetCheck {
  readonly envName: string;
  readonly monthlyFixedUsd: number;
  /** Undefined when no budget is configured for the environment. */
  readonly budgetUsd?: number;
  /** False when over budget; undefined without a budget. */
  readonly withinBudget?: boolean;
  /** Resources missing from the estimate: the real figure is higher. */
  readonly unpricedCount: number;
}

/**
 * The `costBudgetUsd` of each named environment from lib/config. Names that are not
 * environments of this app get none, with a warning.
 */
export function configuredBudgets(envNames: readonly string[]): {
  budgets: Record<string, number>;
  warnings: string[];
} {
  const budgets: Record<string, number> = {};
  const warnings: string[] = [];
  for (const envName of envNames) {
    if (!isEnvironmentName(envName)) {
      warnings.push(`'${envName}' is not an environment of lib/config: no budget to compare with`);
      continue;
    }
    // Read defensively: the field is checked here rather than trusted to the schema's type.
    const budget = (loadEnvironmentConfig(envName) as { costBudgetUsd?: unknown }).costBudgetUsd;
    if (typeof budget === 'number') budgets[envName] = budget;
    else warnings.push(`lib/config has no costBudgetUsd for ${envName}: no budget to compare with`);
  }
  return { budgets, warnings };
}

/** Each environment's estimate against its budget. */
export function checkBudgets(
  estimate: AssemblyEstimate,
  budgets: Readonly<Record<string, number | undefined>>,
): BudgetCheck[] {
  return estimate.environments.map((env) => {
    const budgetUsd = budgets[env.envName];
    return {
      envName: env.envName,
      monthlyFixedUsd: env.monthlyFixedUsd,
      unpricedCount: env.unpricedCount,
      ...(budgetUsd === undefined ? {} : { budgetUsd, withinBudget: env.monthlyFixedUsd <= budgetUsd }),
    };
  });
}
