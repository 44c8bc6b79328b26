import { beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, type ReconcileConfig } from '../../lambdas/spend-reconcile/config';
import { loadEnvironmentConfig } from '../../lib/config';
import { sharedSynth } from '../helpers/synth';
import { deployedProd } from './deployed-env';

// The reconciliation's configuration as deployed: the synthesized environment, resolved, through
// the handler's own parser.
let config: ReconcileConfig;

beforeAll(async () => {
  const deployed = deployedProd(await sharedSynth(), (v) => v.POWERTOOLS_SERVICE_NAME === 'spend-reconcile');
  config = configFromEnv(deployed.env);
});

describe('the deployed spend reconciliation configuration', () => {
  it("parses with the handler's own parser and carries config's spend.reconciliation", () => {
    const wanted = loadEnvironmentConfig('prod').spend.reconciliation;
    expect(config).toMatchObject({
      environment: 'prod',
      maxDiscrepancyPercent: wanted.maxDiscrepancyPercent,
      minDiscrepancyUsd: wanted.minDiscrepancyUsd,
      settleHours: wanted.settleHours,
      anthropicWorkspaceIds: wanted.anthropicWorkspaceIds,
      openaiProjectIds: wanted.openaiProjectIds,
    });
  });

  it("names the stateful stack's admin key secrets", () => {
    expect(config.adminKeySecretArns.anthropic).toMatch(
      /^arn:aws:secretsmanager:us-east-1:222222222222:secret:fa-ai-system\/prod\/anthropic-admin-key/,
    );
    expect(config.adminKeySecretArns.openai).toMatch(/:secret:fa-ai-system\/prod\/openai-admin-key/);
  });
});
