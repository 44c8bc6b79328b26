/**
 * Every Lambda's contract by its folder under lambdas/. test/contracts checks each synthesized
 * function against its contract here, and fails for a function without one. Handlers and
 * constructs import their own contract's module, not this one (a bundle carries one contract).
 */

import { automationVerifyContract } from './automation';
import { budgetGuardContract } from './budget-guard';
import type { FunctionContract } from './contract';
import { dbInspectContract, dbMaintenanceContract, dbMigrateContract } from './database';
import { healthCheckContract } from './health-check';
import { remediationContract } from './remediation';
import { spendGuardContract } from './spend-guard';
import { spendReconcileContract } from './spend-reconcile';
import { trafficShiftContract } from './traffic';
import { trafficRollbackContract } from './traffic-rollback';

export const CONTRACTS: Readonly<Record<string, FunctionContract>> = Object.fromEntries(
  [
    automationVerifyContract,
    budgetGuardContract,
    dbInspectContract,
    dbMaintenanceContract,
    dbMigrateContract,
    healthCheckContract,
    remediationContract,
    spendGuardContract,
    spendReconcileContract,
    trafficRollbackContract,
    trafficShiftContract,
  ].map((c) => [c.functionName, c]),
);
