/**
 * The words of the guard's held actions (guard.ts): the subject and summary of an action the
 * pause or the repeat guard stopped, from the facts the guard found. Nothing here decides.
 */

import type { Notice } from '../notice';
import type { Intent } from './guard';
import { describePause, type Pause } from './pause';
import type { Severity } from './severity';

/** An action not done because the automation is paused. */
export interface PausedFacts {
  readonly environment: string;
  readonly intent: Intent;
  readonly pause: Pause;
}

export function pausedNotice({ environment, intent, pause }: PausedFacts): Notice {
  return {
    subject: `[${environment}] ${intent.severity} automation PAUSED: ${intent.action} NOT done (${intent.trigger})`,
    message:
      `NOT done, automation is PAUSED (${describePause(pause)}): ${intent.source} would have ` +
      `${intent.wouldDo}, for ${intent.trigger}. A human decides: do it by hand if needed, or ` +
      '`npm run ops -- automation resume`.',
  };
}

/** An action not done again because it repeats for the same trigger: escalated. */
export interface RepeatedFacts {
  readonly environment: string;
  readonly intent: Intent;
  /** How often it ran for the trigger within the window. */
  readonly count: number;
  readonly max: number;
  readonly windowMinutes: number;
  /** The severity escalated to; `capped` when the intent's was already the highest. */
  readonly to: Severity;
  readonly capped: boolean;
}

export function repeatedNotice({
  environment,
  intent,
  count,
  max,
  windowMinutes,
  to,
  capped,
}: RepeatedFacts): Notice {
  return {
    subject: `[${environment}] ${to} ESCALATED: ${intent.action} repeating for ${intent.trigger}, NOT done again`,
    message:
      `NOT done, ESCALATED ${capped ? `(already ${to})` : `${intent.severity} -> ${to}`}: ${intent.action} already ran ` +
      `${count} times for ${intent.trigger} in the last ${windowMinutes} minutes (at most ${max}); ` +
      `repeating it is not fixing the cause. ${intent.source} would have ${intent.wouldDo}. ` +
      'A human decides (`npm run ops -- automation status` lists what was done and verified).',
  };
}
