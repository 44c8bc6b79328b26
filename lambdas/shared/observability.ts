import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AUTOMATION_NAMESPACE } from '../../core/spend/metric';

export { AUTOMATION_NAMESPACE };

/** Powertools logger and metrics of one Lambda (JSON logs, one namespace). */
export function createObservability(serviceName: string): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: AUTOMATION_NAMESPACE, serviceName }),
  };
}

export type { Logger } from '@aws-lambda-powertools/logger';
export { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
