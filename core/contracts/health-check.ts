/** The health check Lambda's configuration (lambdas/health-check, lib/constructs/health-check.ts). */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { COLOURS, fraction, topicArnsRule, wholeNumber } from './common';
import { arn, defineContract, json, nonBlank, number, text, type ValuesOf } from './contract';

/** The bounds of the health check's settings; lib/config's `observability` uses them. */
export const HEALTH_CHECK_RULES = {
  /** An error rate (5xx / requests). */
  errorRate: fraction,
  p95Seconds: z.number().positive(),
  /** Fraction of the batch's stocks that must succeed (1 = the runbook's "100% success"). */
  batchSuccessMin: z.number().gt(0, 'must be above 0').max(1, 'must be at most 1 (a fraction of the stocks)'),
  batchLookbackHours: z.number().int().positive(),
  batchMaxRunningMinutes: z.number().int().positive(),
  /** A reminder of an unchanged problem: at least 5 minutes, at most a day. */
  renotifyMinutes: wholeNumber(5, 24 * 60),
} as const;

const colour = z.enum(COLOURS);

export const healthCheckContract = defineContract(
  'health-check',
  {
    /** e.g. 'prod'; shown in the report's subject. */
    environment: text('ENVIRONMENT'),
    ecsCluster: text('ECS_CLUSTER'),
    services: json(
      'SERVICES',
      z
        .array(z.strictObject({ colour, serviceName: nonBlank }))
        .min(1, 'must list at least one service')
        .refine(
          (s) => new Set(s.map((x) => x.serviceName)).size === s.length,
          'service names must be unique',
        ),
    ),
    targetGroups: json(
      'TARGET_GROUPS',
      z
        .array(
          z.strictObject({
            colour,
            targetGroupArn: arn,
            /** The CloudWatch `TargetGroup` dimension value: `targetgroup/<name>/<id>`. */
            targetGroupFullName: nonBlank.regex(
              /^targetgroup\/[^/]+\/[^/]+$/,
              'must be targetgroup/<name>/<id>',
            ),
          }),
        )
        .min(1, 'must list at least one target group'),
    ),
    /** The CloudWatch `LoadBalancer` dimension value: `app/<name>/<id>`. */
    loadBalancerFullName: text(
      'LOAD_BALANCER_FULL_NAME',
      nonBlank.regex(/^app\/[^/]+\/[^/]+$/, 'must be app/<name>/<id>'),
    ),
    opsTableName: text('OPS_TABLE_NAME'),
    topicArns: json('TOPIC_ARNS', topicArnsRule),
    /** The error rate must stay below this fraction. */
    errorRateMax: number('ERROR_RATE_MAX', HEALTH_CHECK_RULES.errorRate),
    /** An error rate above this fraction is P1 (runbook P1: high error rate > 10%), otherwise P2. */
    errorRateHigh: number('ERROR_RATE_HIGH', HEALTH_CHECK_RULES.errorRate),
    /** The p95 of TargetResponseTime must stay below this. */
    p95MaxSeconds: number('P95_MAX_SECONDS', HEALTH_CHECK_RULES.p95Seconds),
    batchSuccessMin: number('BATCH_SUCCESS_MIN', HEALTH_CHECK_RULES.batchSuccessMin),
    /** How far back the batch check looks for the latest run. */
    batchLookbackHours: number('BATCH_LOOKBACK_HOURS', HEALTH_CHECK_RULES.batchLookbackHours),
    /** A run still RUNNING after this long fails the check (runbook: the batch takes < 4 hours). */
    batchMaxRunningMinutes: number('BATCH_MAX_RUNNING_MINUTES', HEALTH_CHECK_RULES.batchMaxRunningMinutes),
    /** While light checks keep finding the same problem, it goes out again after this long. */
    lightRenotifyMinutes: number('LIGHT_RENOTIFY_MINUTES', HEALTH_CHECK_RULES.renotifyMinutes),
  },
  [
    (v) =>
      v.errorRateHigh > v.errorRateMax
        ? undefined
        : {
            field: 'errorRateHigh',
            message: `must be above ERROR_RATE_MAX (${v.errorRateMax}), got ${v.errorRateHigh}`,
          },
  ],
);

export type HealthCheckValues = ValuesOf<typeof healthCheckContract>;

/** The check's pass/fail limits: what `ops health` reads from the ops manifest. */
export const HEALTH_THRESHOLD_FIELDS = [
  'errorRateMax',
  'errorRateHigh',
  'p95MaxSeconds',
  'batchSuccessMin',
  'batchLookbackHours',
  'batchMaxRunningMinutes',
] as const satisfies ReadonlyArray<keyof HealthCheckValues>;
export type HealthThresholds = Pick<HealthCheckValues, (typeof HEALTH_THRESHOLD_FIELDS)[number]>;

/** The rule of {@link HealthThresholds}, from the variables' own rules. */
export const healthThresholdsRule: z.ZodType<HealthThresholds> = z.strictObject(
  Object.fromEntries(HEALTH_THRESHOLD_FIELDS.map((f) => [f, healthCheckContract.fields[f].value])) as Record<
    (typeof HEALTH_THRESHOLD_FIELDS)[number],
    z.ZodType<number>
  >,
);
