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
