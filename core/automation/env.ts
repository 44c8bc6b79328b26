/**
 * The AUTOMATION variable of every acting Lambda and of the verifier: the repeat guard, the
 * verification delay, the topics of the escalations and where verifications are scheduled.
 * One JSON document in its own module, so the typed contracts (core/contracts/) can take it
 * over whole; lib/constructs/automation.ts writes it, {@link automationSettingsFromEnv} reads it.
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { parseFunctionEnv } from '../../lambdas/shared/env';
import { jsonEnvVar } from '../../lambdas/shared/env-json';
import { AUTOMATION_LIMITS } from './limits';
import type { Severity } from './severity';

export { AUTOMATION_LIMITS } from './limits';

/** The variable's name. */
export const AUTOMATION_ENV_VAR = 'AUTOMATION';

const arn = z.string().trim().startsWith('arn:', 'must be an ARN');

const between = (b: { readonly min: number; readonly max: number }) => z.number().int().min(b.min).max(b.max);

const settingsSchema = z.strictObject({
  environment: z.string().trim().min(1),
  opsTableName: z.string().trim().min(1),
  repeat: z.strictObject({
    max: between(AUTOMATION_LIMITS.repeatMax),
    windowMinutes: between(AUTOMATION_LIMITS.repeatWindowMinutes),
  }),
  verifyAfterMinutes: between(AUTOMATION_LIMITS.verifyAfterMinutes),
  topics: z.strictObject({ P0: arn, P1: arn, P2: arn, P3: arn }),
  /** Where the acting Lambdas schedule verifications; absent in the verifier's own settings. */
  verifier: z
    .strictObject({
      functionArn: arn,
      roleArn: arn,
      scheduleGroup: z.string().regex(/^[0-9a-zA-Z-_.]{1,64}$/, 'must be a schedule group name'),
      deadLetterQueueArn: arn,
    })
    .optional(),
});

/** The automation settings of a Lambda. */
export type AutomationSettings = z.infer<typeof settingsSchema> & {
  readonly topics: Readonly<Record<Severity, string>>;
};

const envSchema = z.object({ [AUTOMATION_ENV_VAR]: jsonEnvVar(settingsSchema) });

/** The settings from the AUTOMATION variable; InvalidInputError naming what is wrong. */
export function automationSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): AutomationSettings {
  return parseFunctionEnv(envSchema, env)[AUTOMATION_ENV_VAR];
}
