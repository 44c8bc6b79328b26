/**
 * Monthly cost estimate of synthesized stacks. The review command compares
 * `monthlyTotalsByEnvironment(await estimateAssembly(dir))` before and after a change;
 * `npm run cost` prints the full report.
 */
export {
  type AssemblyEstimateOptions,
  environmentOfStack,
  estimateAssembly,
  monthlyTotalsByEnvironment,
} from './assembly';
export { type BudgetCheck, checkBudgets, configuredBudgets } from './budgets';
export { runCostCli } from './cli';
export {
  AssemblyNotFoundError,
  CostError,
  CostUsageError,
  InvalidTemplateError,
  UnknownEnvironmentError,
} from './errors';
export { estimateTemplate, type TemplateEstimateOptions } from './estimate-template';
export type { MetricIdentity } from './metrics';
export { type PriceTable, priceTableFor } from './prices';
export { formatEnvironment, formatReport } from './report';
export type * from './types';
