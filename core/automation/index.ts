/**
 * The automation that checks its own work, shared by the acting Lambdas, the verifier and the
 * ops CLI: the pause (pause.ts), the repeat guard (guard.ts), the record and verification
 * schedule of each action (record.ts), the checks it reads back (checks.ts), the settings
 * variable (env.ts) and the escalation rule (severity.ts).
 */

export type { AutomationSettings } from '../contracts/automation';
export * from './checks';
export * from './guard';
export * from './pause';
export * from './record';
export * from './severity';
