import type { z } from 'zod';
import { ENVIRONMENTS } from './environments';
import {
  ENVIRONMENT_NAMES,
  type EnvironmentConfig,
  type EnvironmentName,
  environmentConfigSchema,
} from './schema';

export { ENVIRONMENTS } from './environments';
export * from './schema';

/** A config value broke a rule; the message names the environment, the field and the rule. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  return `${field}: ${issue.message}`;
}

/** Validates raw values of one environment, applying defaults. Throws ConfigError. */
export function parseEnvironmentConfig(label: string, raw: unknown): EnvironmentConfig {
  const result = environmentConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  - ${formatIssue(issue)}`);
    throw new ConfigError(`Invalid config for environment '${label}':\n${lines.join('\n')}`);
  }
  if (result.data.envName !== label) {
    throw new ConfigError(
      `Invalid config for environment '${label}':\n  - envName: must match the environment's key (got '${result.data.envName}')`,
    );
  }
  return result.data;
}

export function isEnvironmentName(name: string): name is EnvironmentName {
  return (ENVIRONMENT_NAMES as readonly string[]).includes(name);
}

/** The validated config of a named environment. Unknown names fail with the valid ones listed. */
export function loadEnvironmentConfig(
  name: string,
  environments: Readonly<Record<string, unknown>> = ENVIRONMENTS,
): EnvironmentConfig {
  if (!isEnvironmentName(name) || !(name in environments)) {
    throw new ConfigError(`Unknown environment '${name}': expected one of ${ENVIRONMENT_NAMES.join(', ')}`);
  }
  return parseEnvironmentConfig(name, environments[name]);
}

/**
 * The environments selected by the `env` context value: one name, a comma-separated list,
 * or nothing for all of them.
 */
export function selectEnvironments(selector: unknown): EnvironmentConfig[] {
  if (selector === undefined || selector === '' || selector === 'all') {
    return ENVIRONMENT_NAMES.map((name) => loadEnvironmentConfig(name));
  }
  if (typeof selector !== 'string') {
    throw new ConfigError(`Context 'env' must be a string such as 'prod' (got ${JSON.stringify(selector)})`);
  }
  return selector.split(',').map((name) => loadEnvironmentConfig(name.trim()));
}
export * from './app-environment';
