// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { type AutomationSettings, automationSettingsFromEnv } from '../../core/automation/env';
import { parseFunctionEnv } from '../shared/env';
import { jsonEnvVar } from '../shared/env-json';
import type { Colour } from '../shared/traffic';

/** The alarm severities; each has its own SNS topic. */
export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The automatic remediations. */
export const REMEDIATION_ACTIONS = ['force-new-deployment', 'scale-out'] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

/** The switches and limits of one action. */
export interface ActionSettings {
  /** False: the action is never taken; the report says "disabled in config". */
  readonly enabled: boolean;
  /** At most this many times per clock hour (UTC), across all alarms. */
  readonly maxPerHour: number;
}

/** The switches of the remediations (the REMEDIATION variable). */
export interface RemediationSettings {
  /** True: report what WOULD be done, change nothing. */
  readonly dryRun: boolean;
  readonly actions: {
    readonly 'force-new-deployment': ActionSettings;
    readonly 'scale-out': ActionSettings & {
      /** Tasks added per scale-out. */
      readonly step: number;
    };
  };
}

/** What the remediation Lambda acts on and whom it tells. */
export interface RemediationConfig {
  /** e.g. 'prod'; shown in messages and audit items. */
  readonly environment: string;
  /** The alarm names' prefix, e.g. 'fa-ai-system-prod-': the rest is the alarm id. */
  readonly alarmPrefix: string;
  /** The ECS cluster's name. */
  readonly ecsCluster: string;
  /** Each colour's ECS service name. */
  readonly services: Readonly<Record<Colour, string>>;
  /** Each colour's largest task count (the auto scaling maximum). */
  readonly maxCounts: Readonly<Record<Colour, number>>;
  /** The SSM parameter "<blue>,<green>": the source of truth of the weights. */
  readonly weightsParameter: string;
  readonly opsTableName: string;
  /** The topic of each severity. */
  readonly topicArns: Readonly<Record<Severity, string>>;
  readonly remediation: RemediationSettings;
  /**
   * Each alarm's severity by its id, from the stack (ALARM_SEVERITIES): the alarm's description
   * is prose for people and is never parsed for it.
   */
  readonly alarmSeverities: Readonly<Record<string, Severity>>;
  /** The pause, repeat guard and verification (the AUTOMATION variable). */
  readonly automation: AutomationSettings;
}

const required = z.string().trim().min(1);
const arn = required.startsWith('arn:');

const maxPerHour = z.number().int().min(1).max(60);

// Strict objects: a misspelt key (e.g. "dryrun") must fail loudly, not fall back silently.
const envSchema = z.object({
  ENVIRONMENT: required,
  ALARM_PREFIX: required,
  ECS_CLUSTER: required,
  SERVICES: jsonEnvVar(z.strictObject({ blue: required, green: required })),
  MAX_COUNTS: jsonEnvVar(
    z.strictObject({ blue: z.number().int().min(1).max(1000), green: z.number().int().min(1).max(1000) }),
  ),
  WEIGHTS_PARAMETER: required.startsWith('/'),
  OPS_TABLE_NAME: required,
  TOPIC_ARNS: jsonEnvVar(z.strictObject({ P0: arn, P1: arn, P2: arn, P3: arn })),
  ALARM_SEVERITIES: jsonEnvVar(z.record(z.string().min(1), z.enum(SEVERITIES))),
  REMEDIATION: jsonEnvVar(
    z.strictObject({
      dryRun: z.boolean(),
      actions: z.strictObject({
        'force-new-deployment': z.strictObject({ enabled: z.boolean(), maxPerHour }),
        'scale-out': z.strictObject({
          enabled: z.boolean(),
          maxPerHour,
          step: z.number().int().min(1).max(100),
        }),
      }),
    }),
  ),
});

/** The environment variables of the remediation Lambda (see {@link configFromEnv}). */
export type RemediationEnv = Readonly<Record<string, string | undefined>>;

/**
 * The configuration from ENVIRONMENT, ALARM_PREFIX, ECS_CLUSTER, SERVICES (`{"blue": "...",
 * "green": "..."}`), MAX_COUNTS (`{"blue": 10, "green": 10}`), WEIGHTS_PARAMETER,
 * OPS_TABLE_NAME, TOPIC_ARNS (`{"P0": "arn:...", ..., "P3": "arn:..."}`) and REMEDIATION
 * (`{"dryRun": false, "actions": {"force-new-deployment": {"enabled": true, "maxPerHour": 2},
 * "scale-out": {"enabled": true, "maxPerHour": 3, "step": 1}}}`). Throws InvalidInputError
 * naming every bad variable.
 */
export function configFromEnv(env: RemediationEnv): RemediationConfig {
  const e = parseFunctionEnv(envSchema, env);
  return {
    environment: e.ENVIRONMENT,
    alarmPrefix: e.ALARM_PREFIX,
    ecsCluster: e.ECS_CLUSTER,
    services: e.SERVICES,
    maxCounts: e.MAX_COUNTS,
    weightsParameter: e.WEIGHTS_PARAMETER,
    opsTableName: e.OPS_TABLE_NAME,
    topicArns: e.TOPIC_ARNS,
    remediation: e.REMEDIATION,
    alarmSeverities: e.ALARM_SEVERITIES,
    automation: automationSettingsFromEnv(env),
  };
}
