/**
 * The batch controls' configuration: the budget guard contract's values
 * (core/contracts/budget-guard.ts), which the construct writes and this function parses.
 */
import type { AutomationSettings } from '../../core/contracts/automation';
import { budgetGuardContract } from '../../core/contracts/budget-guard';
import type { FunctionEnv } from '../../core/contracts/contract';
import type { BudgetGuardConfig } from './logic';

/** The environment variables the batch controls read (see {@link configFromEnv}). */
export type BudgetGuardEnv = FunctionEnv;

/**
 * The batch controls' configuration from the function's environment (the variables of
 * budgetGuardContract). Throws InvalidInputError naming every bad variable.
 */
export function configFromEnv(
  env: BudgetGuardEnv,
): BudgetGuardConfig & { readonly automation: AutomationSettings } {
  return budgetGuardContract.parse(env);
}
