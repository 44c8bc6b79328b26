import { describe, expect, it } from 'vitest';
import { llmCostSeries } from '../../core/spend/metric';
import { appCatalogueMetrics } from '../../lib/cost/app-metrics';
import { metricKey } from '../../lib/cost/metrics';

describe('the published metrics the estimate prices', () => {
  const metrics = appCatalogueMetrics('prod');
  const keys = new Set(metrics.map(metricKey));

  it('include every LlmCostUsd series the spend contract allows, once each', () => {
    for (const series of llmCostSeries('prod')) {
      expect(keys).toContain(
        metricKey({ namespace: 'FA-AI-System', name: 'LlmCostUsd', dimensions: { ...series } }),
      );
    }
    expect(metrics.filter((m) => m.name === 'LlmCostUsd')).toHaveLength(6);
  });

  it("include the spend guard's every-run metrics, as its Powertools documents carry them", () => {
    expect(keys).toContain(
      metricKey({
        namespace: 'FA-AI-System/Automation',
        name: 'Heartbeat',
        dimensions: { service: 'spend-guard', Environment: 'prod' },
      }),
    );
    expect(metrics.filter((m) => m.name === 'LlmCostSilent').map((m) => m.dimensions.Component)).toEqual([
      'batch',
      'interactive',
    ]);
    expect(keys.size).toBe(metrics.length);
  });
});
