/**
 * The function's configuration, one contract for both sides: the construct builds the
 * environment with {@link reconcileEnvironment}, the handler parses it with
 * {@link configFromEnv}, and test/contracts feeds the synthesized environment through the parser.
 */
// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import type { LlmProvider } from '../../core/spend/metric';
import { ANTHROPIC_WORKSPACE_ID, OPENAI_PROJECT_ID } from '../../core/spend/scope';
import { parseFunctionEnv } from '../shared/env';
import { jsonEnvVar } from '../shared/env-json';

/** What the reconciliation compares and when a difference counts. */
export interface ReconcileConfig {
  /** e.g. 'prod': the Environment dimension of the application's metric and of what is published. */
  readonly environment: string;
  /** The secrets holding each provider's admin key. */
  readonly adminKeySecretArns: Readonly<Record<LlmProvider, string>>;
  /** A difference counts only beyond this share of the larger side, in percent... */
  readonly maxDiscrepancyPercent: number;
  /** ...and only when it is at least this many dollars (cents of noise are not an incident). */
  readonly minDiscrepancyUsd: number;
  /** Hours after a UTC day's end before its costs count as final at the provider. */
  readonly settleHours: number;
  /** Only these Anthropic workspaces (`default` for the default one); empty: the whole organization. */
  readonly anthropicWorkspaceIds: readonly string[];
  /** Only these OpenAI projects; empty: the whole organization. */
  readonly openaiProjectIds: readonly string[];
}

/** The environment variables of a configuration (values may be CloudFormation tokens). */
export function reconcileEnvironment(config: ReconcileConfig): Record<string, string> {
  return {
    ENVIRONMENT: config.environment,
    ANTHROPIC_ADMIN_KEY_SECRET_ARN: config.adminKeySecretArns.anthropic,
    OPENAI_ADMIN_KEY_SECRET_ARN: config.adminKeySecretArns.openai,
    MAX_DISCREPANCY_PERCENT: String(config.maxDiscrepancyPercent),
    MIN_DISCREPANCY_USD: String(config.minDiscrepancyUsd),
    SETTLE_HOURS: String(config.settleHours),
    ANTHROPIC_WORKSPACE_IDS: JSON.stringify(config.anthropicWorkspaceIds),
    OPENAI_PROJECT_IDS: JSON.stringify(config.openaiProjectIds),
  };
}

const required = z.string().trim().min(1);
const arn = required.startsWith('arn:', 'must be an ARN');
const number = (rule: z.ZodNumber) => z.coerce.number().pipe(rule);
const ids = (pattern: RegExp, example: string) =>
  jsonEnvVar(z.array(z.string().regex(pattern, `must be ids such as ${example}`)));

const envSchema = z.object({
  ENVIRONMENT: required,
  ANTHROPIC_ADMIN_KEY_SECRET_ARN: arn,
  OPENAI_ADMIN_KEY_SECRET_ARN: arn,
  MAX_DISCREPANCY_PERCENT: number(z.number().gt(0).max(100)),
  MIN_DISCREPANCY_USD: number(z.number().nonnegative()),
  SETTLE_HOURS: number(z.number().int().min(0).max(72)),
  ANTHROPIC_WORKSPACE_IDS: ids(ANTHROPIC_WORKSPACE_ID, 'wrkspc_01Jw... or default'),
  OPENAI_PROJECT_IDS: ids(OPENAI_PROJECT_ID, 'proj_abc123'),
});

/** The configuration in `env`; InvalidInputError naming every bad variable otherwise. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): ReconcileConfig {
  const parsed = parseFunctionEnv(envSchema, env);
  return {
    environment: parsed.ENVIRONMENT,
    adminKeySecretArns: {
      anthropic: parsed.ANTHROPIC_ADMIN_KEY_SECRET_ARN,
      openai: parsed.OPENAI_ADMIN_KEY_SECRET_ARN,
    },
    maxDiscrepancyPercent: parsed.MAX_DISCREPANCY_PERCENT,
    minDiscrepancyUsd: parsed.MIN_DISCREPANCY_USD,
    settleHours: parsed.SETTLE_HOURS,
    anthropicWorkspaceIds: parsed.ANTHROPIC_WORKSPACE_IDS,
    openaiProjectIds: parsed.OPENAI_PROJECT_IDS,
  };
}
