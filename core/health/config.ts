/**
 * The health check's configuration: its contract's values (core/contracts/health-check.ts),
 * which the construct writes and this function parses. Every threshold is config's (lib/config).
 */
import type { FunctionEnv } from '../contracts/contract';
import {
  type HealthCheckValues,
  type HealthThresholds,
  healthCheckContract,
} from '../contracts/health-check';

export { COLOURS, type Colour, SEVERITIES, type Severity } from '../contracts/common';
export type { HealthThresholds } from '../contracts/health-check';

/** One ECS service of the application. */
export type ServiceRef = HealthCheckValues['services'][number];

/** One target group of the load balancer. */
export type TargetGroupRef = HealthCheckValues['targetGroups'][number];

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
  readonly topicArns: HealthCheckValues['topicArns'];
  readonly thresholds: HealthThresholds;
  /** While light checks keep finding the same problem, it goes out again after this long. */
  readonly lightRenotifyMinutes: number;
}

/** The environment variables {@link configFromEnv} reads. */
export type HealthCheckEnv = FunctionEnv;

/**
 * The health check's configuration from the function's environment (the variables of
 * healthCheckContract). Throws InvalidInputError naming every bad variable (and the field
 * inside a JSON one).
 */
export function configFromEnv(env: HealthCheckEnv): HealthCheckConfig {
  const v = healthCheckContract.parse(env);
  return {
    environment: v.environment,
    ecsCluster: v.ecsCluster,
    services: v.services,
    targetGroups: v.targetGroups,
    loadBalancerFullName: v.loadBalancerFullName,
    opsTableName: v.opsTableName,
    topicArns: v.topicArns,
    thresholds: {
      errorRateMax: v.errorRateMax,
      errorRateHigh: v.errorRateHigh,
      p95MaxSeconds: v.p95MaxSeconds,
      batchSuccessMin: v.batchSuccessMin,
      batchLookbackHours: v.batchLookbackHours,
      batchMaxRunningMinutes: v.batchMaxRunningMinutes,
    },
    lightRenotifyMinutes: v.lightRenotifyMinutes,
  };
}
