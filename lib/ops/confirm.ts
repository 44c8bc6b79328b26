/** What a command that changes something does before it acts: say what, then --yes or a y/N. */

import { flag } from '../cli/args';
import type { CommandContext } from './context';
import { RefusedError } from './errors';

/** The option of every command that changes something. */
export const YES = flag('do it without asking (required when stdin is not a terminal)');

/**
 * Prints `plan` (what the command is about to change), then goes on if `yes`, or if the person
 * at the terminal answers y; otherwise refuses (exit 2) and nothing is changed. Without a
 * terminal and without --yes it refuses at once: automation never changes things by default.
 */
export async function confirmChange(
  ctx: CommandContext,
  plan: readonly string[],
  yes: boolean,
): Promise<void> {
  for (const line of plan) ctx.out.progress(line);
  if (yes) return;
  if (ctx.prompt === undefined) {
    throw new RefusedError('Not run: stdin is not a terminal; pass --yes to confirm the above');
  }
  const answer = await ctx.prompt('Proceed? [y/N] ');
  if (!/^\s*y(es)?\s*$/i.test(answer)) throw new RefusedError('Not run: not confirmed (nothing changed)');
}
