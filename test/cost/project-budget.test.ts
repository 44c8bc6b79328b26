import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../../lib/config';
import { type AssemblyEstimate, configuredBudgets, estimateAssembly } from '../../lib/cost';
import { sharedSynth } from '../helpers/synth';

let estimate: AssemblyEstimate;
let budgets: Record<string, number>;

beforeAll(async () => {
  estimate = await estimateAssembly((await sharedSynth()).assembly.directory);
  budgets = configuredBudgets(ENVIRONMENT_NAMES).budgets;
});

/** The environment's largest fixed lines, so a failure says where the money goes. */
function largestItems(envName: string): string {
  const env = estimate.environments.find((e) => e.envName === envName);
  return (env?.stacks.flatMap((s) => s.fixed) ?? [])
    .sort((a, b) => b.monthlyUsd - a.monthlyUsd)
    .slice(0, 6)
    .map((i) => `$${i.monthlyUsd.toFixed(2)} ${i.resource} (${i.description})`)
    .join('; ');
}

describe.each(ENVIRONMENT_NAMES)('%s fixed monthly cost', (envName) => {
  it('prices every resource of the environment (a new type needs a price or a known-free reason)', () => {
    const env = estimate.environments.find((e) => e.envName === envName);
    expect(env?.stacks.map((s) => s.stackName).sort()).toEqual([
      `fa-ai-system-${envName}-service`,
      `fa-ai-system-${envName}-stateful`,
    ]);
    expect(env?.stacks.flatMap((s) => s.unpriced)).toEqual([]);
    expect(env?.stacks.flatMap((s) => s.warnings)).toEqual([]);
  });

  it('fits the costBudgetUsd of lib/config', () => {
    const total = estimate.environments.find((e) => e.envName === envName)?.monthlyFixedUsd;
    const budget = budgets[envName];
    expect(budget, `lib/config has no costBudgetUsd for ${envName}`).toBeTypeOf('number');
    expect(
      total,
      `${envName} is estimated at $${total?.toFixed(2)}/month against its budget of $${budget?.toFixed(2)} ` +
        `(npm run cost -- --env ${envName}). Largest items: ${largestItems(envName)}`,
    ).toBeLessThanOrEqual(budget ?? 0);
  });
});

describe("the spend guard and reconciliation (issue #17) in prod's estimate", () => {
  const prodItems = () =>
    estimate.environments.find((e) => e.envName === 'prod')?.stacks.flatMap((s) => s.fixed) ?? [];

  it('prices both Lambdas, their schedules and the admin key secrets', () => {
    const resources = prodItems().map((i) => i.resource);
    for (const prefix of [
      'SpendGuardHandlerFunction',
      'SpendGuardSchedule',
      'SpendReconciliationHandlerFunction',
      'SpendReconciliationDaily',
      'ProviderAdminKeysAnthropic',
      'ProviderAdminKeysOpenAi',
    ]) {
      expect(
        resources.some((r) => r.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
  });

  it("prices the reconciliation's metrics for the hour a day they have data, and still fits $200", () => {
    const daily = prodItems().find((i) => i.description.includes('published once a day'));
    // 19 metrics (7 kinds by provider and window) x 730/24 hours at $0.30/730 per hour.
    expect(daily?.quantity).toBeCloseTo(19 * (730 / 24), 1);
    expect(daily?.monthlyUsd).toBeCloseTo(0.24, 2);
    expect(estimate.environments.find((e) => e.envName === 'prod')?.monthlyFixedUsd).toBeLessThanOrEqual(200);
  });
});
