import { APP_METRICS, APP_METRICS_NAMESPACE, MODELS, QUERY_TIERS } from '../constructs/app-metrics';
import type { MetricIdentity } from './metrics';

/** Values of each extra dimension the catalogue names; one metric per value. */
const DIMENSION_VALUES: Readonly<Record<string, readonly string[]>> = { Tier: QUERY_TIERS, Model: MODELS };

/**
 * ASSUMPTION: the application publishes every metric of its catalogue (APP_METRICS) with the
 * dimension Environment=<env>, and one metric per value of its extra dimension. The template
 * cannot show this: the containers publish them at run time.
 */
export function appCatalogueMetrics(envName: string): MetricIdentity[] {
  return Object.entries(APP_METRICS).flatMap(([name, spec]) => {
    const extra: string | undefined = spec.extraDimension;
    if (extra === undefined) {
      return [{ namespace: APP_METRICS_NAMESPACE, name, dimensions: { Environment: envName } }];
    }
    // A dimension the table above does not know still bills at least once.
    const values = DIMENSION_VALUES[extra] ?? ['<any>'];
    return values.map((value) => ({
      namespace: APP_METRICS_NAMESPACE,
      name,
      dimensions: { Environment: envName, [extra]: value },
    }));
  });
}
