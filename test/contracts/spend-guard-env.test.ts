import { beforeAll, describe, expect, it } from 'vitest';
import { parseFunctionEnv } from '../../core/contracts/env';
import { parse, type SpendGuardValues, schema, serialize, VARIABLES } from '../../core/contracts/spend-guard';
import { InvalidInputError } from '../../core/errors';
import { sharedSynth } from '../helpers/synth';
import { CONFIG } from '../lambdas/spend-guard/harness';
import { deployedProd } from './deployed-env';

// The spend guard's configuration as deployed: the synthesized environment, resolved, through the
// handler's own parser; and the contract's two sides agreeing on every value.
let deployed: SpendGuardValues;
let manifestSpend: Record<string, unknown>;

beforeAll(async () => {
  const prod = deployedProd(await sharedSynth(), (v) => 'KILL_SWITCH_BUDGETS' in v);
  deployed = parseFunctionEnv(schema, prod.env);
  manifestSpend = JSON.parse(prod.output('OpsManifest')).spend;
});

describe('the deployed spend guard configuration', () => {
  it("parses with the handler's own parser into the runbook's budgets", () => {
    expect(deployed.budgets.map((b) => [b.id, b.limitUsd])).toEqual([
      ['batch', 1200],
      ['interactive', 600],
      ['infrastructure', 200],
      ['total', 2000],
    ]);
    expect(deployed).toMatchObject({
      environment: 'prod',
      accountId: '222222222222',
      killSwitchPercent: 100,
      killSwitchBudgets: ['batch', 'interactive', 'infrastructure', 'total'],
      // Prod's names are the runbook's, without an environment suffix.
      batch: { scheduleName: 'fa-ai-system-weekly-batch', scheduleGroup: 'default' },
    });
    expect(deployed.topics.page).toMatch(/^arn:aws:sns:us-east-1:222222222222:fa-ai-system-prod-alerts-p1$/);
  });

  it('reads the spend as batch enable does: the OpsManifest carries the same settings', () => {
    expect(manifestSpend).toEqual({
      budgets: deployed.budgets,
      killSwitchPercent: deployed.killSwitchPercent,
      maxCallCostUsd: deployed.maxCallCostUsd,
      awsSettleHours: deployed.awsSettleHours,
    });
  });
});

describe('the contract', () => {
  it('parses what it serializes, variable for variable', () => {
    const env = serialize(CONFIG);
    expect(Object.keys(env).sort()).toEqual([...VARIABLES].sort());
    expect(parse(env)).toEqual(CONFIG);
  });

  it('names every bad variable and its rule (InvalidInputError in the handler)', () => {
    const env = {
      ...serialize(CONFIG),
      AWS_ACCOUNT_ID: '2222',
      BUDGETS: '{not json',
      KILL_SWITCH_PERCENT: '',
      PAGE_TOPIC_ARN: 'fa-ai-system-prod-alerts-p1',
      UNKNOWN_RENOTIFY_MINUTES: '5',
    };
    const error = (() => {
      try {
        parseFunctionEnv(schema, env);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    for (const problem of [
      'AWS_ACCOUNT_ID: must be a 12-digit account id',
      'BUDGETS: must be valid JSON',
      'KILL_SWITCH_PERCENT: is required',
      'PAGE_TOPIC_ARN: must be an ARN',
      'UNKNOWN_RENOTIFY_MINUTES',
    ]) {
      expect(error?.message).toContain(problem);
    }
  });
});
