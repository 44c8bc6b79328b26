import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The CloudWatch namespace of the system's automation metrics. */
export const AUTOMATION_NAMESPACE = 'FA-AI-System/Automation';

/** Powertools logger and metrics of one Lambda (JSON logs, one namespace). */
export function createObservability(serviceName: string): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: AUTOMATION_NAMESPACE, serviceName }),
  };
}

export type { Logger } from '@aws-lambda-powertools/logger';
export { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
