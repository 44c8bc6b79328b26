import { beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../core/contracts';
import type { FieldContract, FunctionContract, Variable } from '../../core/contracts/contract';
import { InvalidInputError } from '../../core/errors';
import { ENVIRONMENTS, environmentConfigSchema } from '../../lib/config';
import { sharedSynth } from '../helpers/synth';
import { type DeployedFunction, deployedEnvironment } from './deployed-env';

// A bad value fails the handler's parser naming the variable (and the field inside a JSON one);
// and the bounds of a setting are the same on both sides of the boundary: what config accepts,
// the Lambda accepts, what config refuses, the Lambda refuses.

let prod: DeployedFunction[];

beforeAll(async () => {
  prod = deployedEnvironment(await sharedSynth(), 'prod').functions;
});

/** The deployed prod environment of `name`, with `change` applied. */
function prodEnv(
  name: string,
  change: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  const fn = prod.find((f) => f.env.POWERTOOLS_SERVICE_NAME === name);
  if (!fn) throw new Error(`no prod function ${name}`);
  return { ...fn.env, ...change };
}

/** The message `contract.parse(env)` fails with; '' when it succeeds. */
function failure(contract: FunctionContract, env: Record<string, string | undefined>): string {
  try {
    contract.parse(env);
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
}

/** A variable's kind, when its contract is built by defineContract (the spend guard's is not). */
function kindOf(contract: FunctionContract, name: string): string | undefined {
  const fields = (contract as Partial<FieldContract>).fields as Record<string, Variable<unknown>> | undefined;
  return Object.values(fields ?? {}).find((v) => v.name === name)?.kind;
}

const VARIABLES = Object.values(CONTRACTS).flatMap((contract) =>
  contract.variables.map((name) => ({
    contract,
    name,
    kind: kindOf(contract, name),
    label: `${contract.functionName} ${name}`,
  })),
);

describe('a missing or blank variable', () => {
  it.each(VARIABLES)('$label: fails, naming it (no Lambda-side default)', ({ contract, name }) => {
    expect(failure(contract, prodEnv(contract.functionName, { [name]: undefined }))).toContain(
      `${name}: is required`,
    );
    expect(failure(contract, prodEnv(contract.functionName, { [name]: '  ' }))).toContain(
      `${name}: is required`,
    );
  });
});

describe('a malformed variable', () => {
  it.each(VARIABLES.filter((v) => v.kind === 'number'))(
    '$label: a non-number fails, naming it',
    ({ contract, name }) => {
      expect(failure(contract, prodEnv(contract.functionName, { [name]: '1h' }))).toMatch(
        new RegExp(`${name}: .*NaN`),
      );
    },
  );

  it.each(VARIABLES.filter((v) => v.kind === 'json'))(
    '$label: invalid JSON fails, naming it',
    ({ contract, name }) => {
      expect(failure(contract, prodEnv(contract.functionName, { [name]: '{"' }))).toContain(
        `${name}: must be valid JSON`,
      );
    },
  );
});

/** `env[variable]` with the JSON document's field at `path` set to `value`. */
function withJsonField(
  env: Record<string, string | undefined>,
  variable: string,
  path: string[],
  value: unknown,
) {
  const doc = JSON.parse(env[variable] ?? 'null');
  let at = doc;
  for (const key of path.slice(0, -1)) at = at[key];
  at[path.at(-1) as string] = value;
  return { ...env, [variable]: JSON.stringify(doc) };
}

/** A setting of lib/config that reaches a Lambda, and values on both sides of one of its bounds. */
interface Edge {
  /** The config field, e.g. remediation.scaleOut.step. */
  readonly field: string;
  readonly fn: string;
  readonly variable: string;
  /** The field inside a JSON variable. */
  readonly path?: string[];
  readonly accepted: number;
  readonly refused: number;
}

const EDGES: readonly Edge[] = [
  {
    field: 'remediation.scaleOut.maxPerHour',
    fn: 'remediation',
    variable: 'REMEDIATION',
    path: ['actions', 'scale-out', 'maxPerHour'],
    accepted: 20,
    refused: 21,
  },
  {
    field: 'remediation.forceNewDeployment.maxPerHour',
    fn: 'remediation',
    variable: 'REMEDIATION',
    path: ['actions', 'force-new-deployment', 'maxPerHour'],
    accepted: 20,
    refused: 21,
  },
  {
    field: 'remediation.scaleOut.step',
    fn: 'remediation',
    variable: 'REMEDIATION',
    path: ['actions', 'scale-out', 'step'],
    accepted: 10,
    refused: 11,
  },
  {
    field: 'service.green.maxCount',
    fn: 'remediation',
    variable: 'MAX_COUNTS',
    path: ['green'],
    accepted: 1,
    refused: 0,
  },
  {
    field: 'observability.errorRateElevated',
    fn: 'health-check',
    variable: 'ERROR_RATE_MAX',
    accepted: 0.05,
    refused: 1,
  },
  {
    field: 'observability.p95Seconds',
    fn: 'health-check',
    variable: 'P95_MAX_SECONDS',
    accepted: 0.5,
    refused: 0,
  },
  {
    field: 'observability.batchMaxMinutes',
    fn: 'health-check',
    variable: 'BATCH_MAX_RUNNING_MINUTES',
    accepted: 1,
    refused: 0,
  },
  {
    field: 'observability.batchCheckSuccessMin',
    fn: 'health-check',
    variable: 'BATCH_SUCCESS_MIN',
    accepted: 1,
    refused: 1.01,
  },
  {
    field: 'observability.batchCheckLookbackHours',
    fn: 'health-check',
    variable: 'BATCH_LOOKBACK_HOURS',
    accepted: 1,
    refused: 0.5,
  },
  {
    field: 'observability.lightCheckRenotifyMinutes',
    fn: 'health-check',
    variable: 'LIGHT_RENOTIFY_MINUTES',
    accepted: 1440,
    refused: 1441,
  },
  {
    field: 'traffic.rollbackWindowMinutes',
    fn: 'traffic-rollback',
    variable: 'ROLLBACK_WINDOW_MINUTES',
    accepted: 1440,
    refused: 1441,
  },
  {
    field: 'traffic.rollbackCooldownMinutes',
    fn: 'traffic-rollback',
    variable: 'ROLLBACK_COOLDOWN_MINUTES',
    accepted: 1,
    refused: 0,
  },
  {
    field: 'traffic.rollbackMaxEventAgeMinutes',
    fn: 'traffic-rollback',
    variable: 'ROLLBACK_MAX_EVENT_AGE_MINUTES',
    accepted: 360,
    refused: 361,
  },
  {
    field: 'budgets.killSwitchPercent',
    fn: 'budget-guard',
    variable: 'KILL_THRESHOLD_PERCENT',
    accepted: 200,
    refused: 201,
  },
  {
    field: 'spend.reconciliation.maxDiscrepancyPercent',
    fn: 'spend-reconcile',
    variable: 'MAX_DISCREPANCY_PERCENT',
    accepted: 100,
    refused: 101,
  },
  {
    field: 'spend.reconciliation.settleHours',
    fn: 'spend-reconcile',
    variable: 'SETTLE_HOURS',
    accepted: 72,
    refused: 73,
  },
  {
    field: 'spend.guard.forecastMinDays',
    fn: 'spend-guard',
    variable: 'FORECAST_MIN_DAYS',
    accepted: 28,
    refused: 29,
  },
  {
    field: 'spend.guard.unknownRenotifyMinutes',
    fn: 'spend-guard',
    variable: 'UNKNOWN_RENOTIFY_MINUTES',
    accepted: 1440,
    refused: 1441,
  },
  {
    field: 'budgets.killSwitchPercent',
    fn: 'spend-guard',
    variable: 'KILL_SWITCH_PERCENT',
    accepted: 200,
    refused: 201,
  },
  {
    field: 'database.archiveRetentionDays',
    fn: 'db-maintenance',
    variable: 'ARCHIVE_RETENTION_DAYS',
    accepted: 1,
    refused: 0,
  },
];

/** Whether prod's config with `field` set to `value` has an issue on that field. */
function configRefuses(field: string, value: number): boolean {
  const input = structuredClone(ENVIRONMENTS.prod) as Record<string, any>;
  const path = field.split('.');
  let at = input;
  for (const key of path.slice(0, -1)) {
    at[key] ??= {};
    at = at[key];
  }
  at[path.at(-1) as string] = value;
  const parsed = environmentConfigSchema.safeParse(input);
  return !parsed.success && parsed.error.issues.some((i) => i.path.join('.') === field);
}

function contractEnv(edge: Edge, value: number) {
  const env = prodEnv(edge.fn);
  return edge.path
    ? withJsonField(env, edge.variable, edge.path, value)
    : { ...env, [edge.variable]: String(value) };
}

describe.each(EDGES)('$field ($fn $variable)', (edge) => {
  const contract = () => CONTRACTS[edge.fn] as FunctionContract;
  const named = [edge.variable, ...(edge.path ?? [])].join('.');

  it(`config and the Lambda both accept ${edge.accepted}`, () => {
    expect(configRefuses(edge.field, edge.accepted)).toBe(false);
    expect(failure(contract(), contractEnv(edge, edge.accepted))).toBe('');
  });

  it(`config and the Lambda both refuse ${edge.refused}, the Lambda naming ${named}`, () => {
    expect(configRefuses(edge.field, edge.refused)).toBe(true);
    expect(failure(contract(), contractEnv(edge, edge.refused))).toContain(`${named}: `);
  });
});

describe('a rule across variables', () => {
  it('health-check: an ERROR_RATE_HIGH not above ERROR_RATE_MAX fails, naming both', () => {
    const contract = CONTRACTS['health-check'] as FunctionContract;
    expect(
      failure(contract, prodEnv('health-check', { ERROR_RATE_MAX: '0.1', ERROR_RATE_HIGH: '0.1' })),
    ).toContain('ERROR_RATE_HIGH: must be above ERROR_RATE_MAX (0.1), got 0.1');
  });
});
