/**
 * The bounds of the automation settings, shared by the config schema (lib/config/schema.ts) and
 * the Lambdas' variable (env.ts). No imports: the synth loads this module too.
 */
export const AUTOMATION_LIMITS = {
  repeatMax: { min: 1, max: 20 },
  repeatWindowMinutes: { min: 5, max: 24 * 60 },
  verifyAfterMinutes: { min: 1, max: 60 },
} as const;

/** The defaults: three of the same action for the same alarm in an hour; read back after 10 minutes. */
export const AUTOMATION_DEFAULTS = { repeatMax: 3, repeatWindowMinutes: 60, verifyAfterMinutes: 10 } as const;
