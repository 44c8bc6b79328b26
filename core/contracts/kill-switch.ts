/**
 * The kill threshold's rule, which the budget guard's and the spend guard's contracts and
 * lib/config's `budgets` share. A module of its own: the spend guard's bundle takes it without
 * the budget guard's contract.
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';

/** Percent of a budget's spend at which the kill switch engages (the runbook's 100%). */
export const KILL_SWITCH_PERCENT = z.number().int().min(50).max(200);
