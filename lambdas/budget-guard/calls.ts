import { declareCalls } from '../../core/calls';
import { KILL_SWITCH_CALLS } from '../../core/kill-switch/calls';

/** What the kill switch calls (lib/constructs/budget-guard.ts grants exactly this). */
export const BUDGET_GUARD_CALLS = declareCalls({
  ...KILL_SWITCH_CALLS,
  alerts: { actions: ['sns:Publish'] },
});
