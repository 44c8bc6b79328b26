import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AUTOMATION_NAMESPACE } from '../../core/spend/metric';

export { AUTOMATION_NAMESPACE };

/** Powertools logger and metrics of one Lambda (JSON logs, one namespace). */
export function createObservability(serviceName: string): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: AUTOMATION_NAMESPACE, serviceName }),
  };
}

/**
 * Counts `name` (`count`, 1 by default) with `dimensions` in a metric document of its own: the
 * dimensions must not spread to the invocation's other metrics.
 */
export function countWithDimensions(
  metrics: Metrics,
  name: string,
  dimensions: Readonly<Record<string, string>>,
  count = 1,
): void {
  const single = metrics.singleMetric();
  for (const [dimension, value] of Object.entries(dimensions)) single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, count);
}

export type { Logger } from '@aws-lambda-powertools/logger';
export { type Metrics, MetricUnit };
