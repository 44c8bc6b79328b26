import { describe, expect, it } from 'vitest';
import { APP_NAMESPACE, LLM_COST_METRIC } from '../../../core/spend/metric';
import {
  RECONCILIATION_METRICS,
  RECONCILIATION_NAMESPACE,
  RECONCILIATION_SERVICE,
} from '../../../core/spend/reconciliation-metrics';
import { AUTOMATION_NAMESPACE } from '../../../lambdas/shared/observability';
import { APP_METRICS_NAMESPACE, AUTOMATION_METRICS_NAMESPACE } from '../../../lib/constructs/app-metrics';

// core/ may not import lib/ (aws-cdk-lib) or the Powertools module into what a bundle loads,
// so the namespaces it names are held to theirs here.
describe('the spend metrics', () => {
  it("are in the application's namespace (LlmCostUsd) and the automation's (what reconciliation publishes)", () => {
    expect(APP_NAMESPACE).toBe(APP_METRICS_NAMESPACE);
    expect(LLM_COST_METRIC.namespace).toBe(APP_METRICS_NAMESPACE);
    expect(RECONCILIATION_NAMESPACE).toBe(AUTOMATION_NAMESPACE);
    expect(RECONCILIATION_NAMESPACE).toBe(AUTOMATION_METRICS_NAMESPACE);
  });

  it("name the reconciliation's Powertools service as its Lambda folder is named", () => {
    expect(RECONCILIATION_SERVICE).toBe('spend-reconcile');
  });

  it('give every reconciliation metric the Environment dimension (environments may share an account)', () => {
    for (const spec of Object.values(RECONCILIATION_METRICS))
      expect(spec.dimensions).toContain('Environment');
  });
});
