import type { EnvironmentName } from './config';

/** The system's name; the runbook's resource names all start with it. */
export const SYSTEM_NAME = 'fa-ai-system';

/**
 * The physical name of a resource: the runbook's exact name in prod, suffixed with the
 * environment elsewhere so environments sharing an account never collide.
 */
export function envScopedName(envName: EnvironmentName, base: string): string {
  return envName === 'prod' ? base : `${base}-${envName}`;
}

/** CloudFormation stack name of one lifecycle tier of an environment. */
export function stackName(envName: EnvironmentName, tier: 'stateful' | 'service'): string {
  return `${SYSTEM_NAME}-${envName}-${tier}`;
}

/**
 * SSM parameter holding the live listener weights as a StringList "<blue>,<green>".
 * The one source of truth for traffic weights (see TrafficWeights).
 */
export function trafficWeightsParameterName(envName: EnvironmentName): string {
  return `/${SYSTEM_NAME}/${envName}/traffic/weights`;
}

/**
 * SSM parameter holding the batch schedule's state, ENABLED or DISABLED. The kill switch
 * writes it; every deploy reads it, so a deploy never re-enables a batch the switch stopped.
 */
export function batchScheduleStateParameterName(envName: EnvironmentName): string {
  return `/${SYSTEM_NAME}/${envName}/batch/schedule-state`;
}

/**
 * Template metadata key on an AWS::ECS::Service holding the task count set at its creation
 * (see InitialDesiredCount): the template carries no DesiredCount, and the cost estimate
 * prices this count instead.
 */
export const INITIAL_DESIRED_COUNT_METADATA = 'fa-ai:initial-desired-count';

/**
 * Template metadata key on an AWS::Lambda::Function holding how many CloudWatch metrics each
 * invocation requests with GetMetricData (billed per metric, which the template cannot show):
 * the cost estimate prices the scheduled invocations' requests from it.
 */
export const GET_METRIC_DATA_METRICS_METADATA = 'fa-ai:get-metric-data-metrics';
