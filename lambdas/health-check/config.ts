// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { jsonEnvVar } from '../shared/env-json';
import { describeIssues, InvalidInputError } from '../shared/errors';

/** The two deployment colours of the service. */
export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];

/** The runbook's severity levels, most severe first. */
export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One ECS service of the application. */
export interface ServiceRef {
  readonly colour: Colour;
  readonly serviceName: string;
}

/** One target group of the load balancer. */
export interface TargetGroupRef {
  readonly colour: Colour;
  readonly targetGroupArn: string;
  /** The CloudWatch `TargetGroup` dimension value: `targetgroup/<name>/<id>`. */
  readonly targetGroupFullName: string;
}

/** The pass/fail limits of the checks. */
export interface HealthThresholds {
  /** The error rate (5xx / requests) must stay below this fraction. */
  readonly errorRateMax: number;
  /** An error rate above this fraction is P1 (runbook P1: high error rate > 10%), otherwise P2. */
  readonly errorRateHigh: number;
  /** The p95 of TargetResponseTime must stay below this. */
  readonly p95MaxSeconds: number;
  /** Fraction of the batch's stocks that must succeed (1 = the runbook's "100% success"). */
  readonly batchSuccessMin: number;
  /** How far back the batch check looks for the latest run. */
  readonly batchLookbackHours: number;
  /** A run still RUNNING after this long fails the check (runbook: the batch takes < 4 hours). */
  readonly batchMaxRunningMinutes: number;
}

/** What the health check looks at and where it reports. */
export interface HealthCheckConfig {
  /** e.g. 'prod'; shown in the report's subject. */
  readonly environment: string;
  readonly ecsCluster: string;
  readonly services: readonly ServiceRef[];
  readonly targetGroups: readonly TargetGroupRef[];
  /** The CloudWatch `LoadBalancer` dimension value: `app/<name>/<id>`. */
  readonly loadBalancerFullName: string;
  readonly opsTableName: string;
  readonly topicArns: Readonly<Record<Severity, string>>;
  readonly thresholds: HealthThresholds;
  /** While light checks keep finding the same problem, it goes out again after this long. */
  readonly lightRenotifyMinutes: number;
}

// Empty means unset: an optional setting left blank in a deployment arrives as "".
function emptyToUndefined(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

const required = z.string().trim().min(1);
const arn = required.startsWith('arn:', 'must be an ARN');
const colour = z.enum(COLOURS);

const optionalNumber = (schema: z.ZodNumber, fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().pipe(schema).default(fallback));

const envSchema = z.object({
  ENVIRONMENT: required,
  ECS_CLUSTER: required,
  SERVICES: jsonEnvVar(
    z
      .array(z.object({ colour, serviceName: required }))
      .min(1, 'must list at least one service')
      .refine((s) => new Set(s.map((x) => x.serviceName)).size === s.length, 'service names must be unique'),
    z.string(),
  ),
  TARGET_GROUPS: jsonEnvVar(
    z
      .array(
        z.object({
          colour,
          targetGroupArn: arn,
          targetGroupFullName: required.regex(
            /^targetgroup\/[^/]+\/[^/]+$/,
            'must be targetgroup/<name>/<id>',
          ),
        }),
      )
      .min(1, 'must list at least one target group'),
    z.string(),
  ),
  LOAD_BALANCER_FULL_NAME: required.regex(/^app\/[^/]+\/[^/]+$/, 'must be app/<name>/<id>'),
  OPS_TABLE_NAME: required,
  TOPIC_ARNS: jsonEnvVar(z.object({ P0: arn, P1: arn, P2: arn, P3: arn }), z.string()),
  ERROR_RATE_MAX: optionalNumber(z.number().gt(0).lt(1), 0.01),
  ERROR_RATE_HIGH: optionalNumber(z.number().gt(0).lt(1), 0.1),
  P95_MAX_SECONDS: optionalNumber(z.number().positive(), 3),
  BATCH_SUCCESS_MIN: optionalNumber(z.number().gt(0).max(1), 1),
  // The batch is weekly (Sunday 02:00), so "yesterday's batch" of the runbook's daily check is
  // really "the latest run": 8 days (192 h) always include the last scheduled run, plus a
  // day's slack for a late or manually re-run one, without reaching back two runs.
  BATCH_LOOKBACK_HOURS: optionalNumber(z.number().int().positive(), 192),
  BATCH_MAX_RUNNING_MINUTES: optionalNumber(z.number().int().positive(), 240),
  LIGHT_RENOTIFY_MINUTES: optionalNumber(z.number().int().positive(), 60),
});

/** The environment variables {@link configFromEnv} reads. */
export type HealthCheckEnv = Readonly<Record<string, string | undefined>>;

/**
 * The health check's configuration from environment variables:
 * - ENVIRONMENT, ECS_CLUSTER, OPS_TABLE_NAME: plain strings;
 * - SERVICES: JSON `[{ "colour": "blue" | "green", "serviceName": "..." }]`;
 * - TARGET_GROUPS: JSON `[{ "colour", "targetGroupArn", "targetGroupFullName": "targetgroup/<name>/<id>" }]`;
 * - LOAD_BALANCER_FULL_NAME: `app/<name>/<id>`;
 * - TOPIC_ARNS: JSON `{ "P0": arn, "P1": arn, "P2": arn, "P3": arn }`;
 * - optional: ERROR_RATE_MAX (0.01), ERROR_RATE_HIGH (0.1), P95_MAX_SECONDS (3),
 *   BATCH_SUCCESS_MIN (1), BATCH_LOOKBACK_HOURS (192), BATCH_MAX_RUNNING_MINUTES (240),
 *   LIGHT_RENOTIFY_MINUTES (60).
 *
 * Throws InvalidInputError naming every bad variable (and the field inside a JSON one).
 */
export function configFromEnv(env: HealthCheckEnv): HealthCheckConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new InvalidInputError(`Invalid health check configuration: ${describeIssues(parsed.error.issues)}`);
  }
  const e = parsed.data;
  if (e.ERROR_RATE_HIGH <= e.ERROR_RATE_MAX) {
    throw new InvalidInputError(
      `Invalid health check configuration: ERROR_RATE_HIGH (${e.ERROR_RATE_HIGH}) must be above ERROR_RATE_MAX (${e.ERROR_RATE_MAX})`,
    );
  }
  return {
    environment: e.ENVIRONMENT,
    ecsCluster: e.ECS_CLUSTER,
    services: e.SERVICES,
    targetGroups: e.TARGET_GROUPS,
    loadBalancerFullName: e.LOAD_BALANCER_FULL_NAME,
    opsTableName: e.OPS_TABLE_NAME,
    topicArns: e.TOPIC_ARNS,
    thresholds: {
      errorRateMax: e.ERROR_RATE_MAX,
      errorRateHigh: e.ERROR_RATE_HIGH,
      p95MaxSeconds: e.P95_MAX_SECONDS,
      batchSuccessMin: e.BATCH_SUCCESS_MIN,
      batchLookbackHours: e.BATCH_LOOKBACK_HOURS,
      batchMaxRunningMinutes: e.BATCH_MAX_RUNNING_MINUTES,
    },
    lightRenotifyMinutes: e.LIGHT_RENOTIFY_MINUTES,
  };
}
