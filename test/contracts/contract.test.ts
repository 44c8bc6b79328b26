import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Lazy, Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../core/contracts';
import type { FieldContract, FunctionContract, InputOf, Variable } from '../../core/contracts/contract';
import { remediationContract } from '../../core/contracts/remediation';
import { PROJECT_ROOT } from '../../lib/lambda-bundling';
import { bundleDir } from '../bundles/bundles';
import { HANDLERS } from '../fault-matrix/matrix';
import { automationSettings } from '../helpers/automation';
import { sharedSynth } from '../helpers/synth';
import { type DeployedFunction, deployedEnvironment } from './deployed-env';

let prod: DeployedFunction[];

beforeAll(async () => {
  prod = deployedEnvironment(await sharedSynth(), 'prod').functions;
});

describe('serialize', () => {
  // What handler fixtures are built with (JSON.stringify) writes what the stack deploys.
  it.each(Object.keys(CONTRACTS).sort())('%s: writes the variables the stack synthesized', (name) => {
    const contract = CONTRACTS[name] as FunctionContract<Record<string, unknown>, Record<string, unknown>>;
    const env = prod.find((f) => f.env.POWERTOOLS_SERVICE_NAME === name)?.env ?? {};
    const values = contract.parse(env);
    // A JSON variable's input is its document (the alarm facts parse into a lookup).
    const fields = (contract as Partial<FieldContract>).fields as
      | Record<string, Variable<unknown>>
      | undefined;
    const input = fields
      ? Object.fromEntries(
          Object.entries(fields).map(([field, v]) => [
            field,
            v.kind === 'json' ? JSON.parse(env[v.name] ?? 'null') : values[field],
          ]),
        )
      : values;
    const deployed = Object.fromEntries(contract.variables.map((v) => [v, env[v]]));
    expect(contract.serialize(input)).toEqual(deployed);
  });
});

/** Remediation values as the construct passes them in prod. */
const REMEDIATION_INPUT: InputOf<typeof remediationContract> = {
  environment: 'prod',
  ecsCluster: 'fa-ai-system-cluster',
  services: { blue: 'fa-ai-system-blue-service', green: 'fa-ai-system-green-service' },
  maxCounts: { blue: 10, green: 10 },
  weightsParameter: '/fa-ai-system/prod/traffic/weights',
  opsTableName: 'fa-ai-system-prod-ops',
  topicArns: {
    P0: 'arn:aws:sns:us-east-1:222222222222:p0',
    P1: 'arn:aws:sns:us-east-1:222222222222:p1',
    P2: 'arn:aws:sns:us-east-1:222222222222:p2',
    P3: 'arn:aws:sns:us-east-1:222222222222:p3',
  },
  remediation: {
    dryRun: false,
    actions: {
      'force-new-deployment': { enabled: true, maxPerHour: 2 },
      'scale-out': { enabled: true, maxPerHour: 3, step: 1 },
    },
  },
  alarmFacts: { namePrefix: 'fa-ai-system-prod-', alarms: { 'P0 traffic-rollback': ['p0'] } },
  automation: automationSettings('fa-ai-system-prod-ops'),
};

describe('a deploy-time value inside a JSON variable (a Lazy service name)', () => {
  /** The variables as synth resolves them, serialized with `json`. */
  const resolved = (json?: (stack: Stack) => (value: unknown) => string) => {
    const stack = new Stack(new App(), 'Contract');
    // Resolved at synth, and its text needs escaping inside JSON.
    const blue = Lazy.string({ produce: () => 'blue "quoted"' });
    const env = remediationContract.serialize(
      { ...REMEDIATION_INPUT, services: { ...REMEDIATION_INPUT.services, blue } },
      json?.(stack),
    );
    return stack.resolve(env) as Record<string, string>;
  };

  it("is escaped by CDK's encoder, which AppFunction passes", () => {
    const env = resolved((stack) => (value) => stack.toJsonString(value));
    expect(remediationContract.parse(env).services.blue).toBe('blue "quoted"');
  });

  it('is not with JSON.stringify: the variable would not parse', () => {
    expect(() => remediationContract.parse(resolved())).toThrow(/SERVICES: must be valid JSON/);
  });
});

// The contracts are bundled into every Lambda: they must stay small.
describe('what the contracts bring into a bundle', () => {
  const ALLOWED = [
    /^zod$/,
    /^\.\/[a-z-]+$/,
    /^\.\.\/errors$/,
    // The alarm catalogue's words and facts (the facts import the catalogue's types only), and the
    // spend budgets' ids (no imports but the metric's types).
    /^\.\.\/alarms\/(vocabulary|facts)$/,
    /^\.\.\/spend\/budgets$/,
    // Regular expressions of the providers' ids, with no imports of its own.
    /^\.\.\/spend\/scope$/,
  ];

  it('core/contracts imports zod, its own modules, core/spend/scope and core/errors only', () => {
    const dir = join(PROJECT_ROOT, 'core', 'contracts');
    const imports = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        [...readFileSync(join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => ({
          file: f,
          from: m[1],
        })),
      );
    expect(imports.filter((i) => !ALLOWED.some((a) => a.test(i.from ?? '')))).toEqual([]);
  });

  it.each(HANDLERS)('%s: its bundle holds no aws-cdk-lib and nothing of lib/', (name) => {
    const map = JSON.parse(readFileSync(join(bundleDir(name), 'index.js.map'), 'utf8')) as {
      sources: string[];
    };
    expect(map.sources.filter((s) => /node_modules\/aws-cdk-lib\/|^lib\//.test(s))).toEqual([]);
  });
});
