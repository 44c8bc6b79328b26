import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Lazy, Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../core/contracts';
import { type RemediationValues, remediationContract } from '../../core/contracts/remediation';
import { PROJECT_ROOT } from '../../lib/lambda-bundling';
import { bundleDir } from '../bundles/bundles';
import { HANDLERS } from '../fault-matrix/matrix';
import { sharedSynth } from '../helpers/synth';
import { type DeployedFunction, deployedEnvironment } from './deployed-env';

let prod: DeployedFunction[];

beforeAll(async () => {
  prod = deployedEnvironment(await sharedSynth(), 'prod').functions;
});

describe('serialize and parse', () => {
  it.each(Object.keys(CONTRACTS).sort())('%s: serializing the parsed values gives them back', (name) => {
    const contract = CONTRACTS[name];
    const env = prod.find((f) => f.env.POWERTOOLS_SERVICE_NAME === name)?.env ?? {};
    const values = contract?.parse(env);
    expect(contract?.parse(contract.serialize(values))).toEqual(values);
  });
});

/** Remediation values as the construct passes them in prod. */
const REMEDIATION_VALUES: RemediationValues = {
  environment: 'prod',
  alarmPrefix: 'fa-ai-system-prod-',
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
  alarmSeverities: { p0: 'P0' },
};

describe("a deploy-time value inside a JSON variable (the remediation's Lazy severities)", () => {
  /** The variables as synth resolves them, serialized with `json`. */
  const resolved = (json?: (stack: Stack) => (value: unknown) => string) => {
    const stack = new Stack(new App(), 'Contract');
    // Resolved at synth, and its text needs escaping inside JSON.
    const lazy = Lazy.any({
      produce: () => ({ 'log-"quoted"': 'P1' }),
    }) as unknown as RemediationValues['alarmSeverities'];
    const env = remediationContract.serialize(
      { ...REMEDIATION_VALUES, alarmSeverities: lazy },
      json?.(stack),
    );
    return stack.resolve(env) as Record<string, string>;
  };

  it("is escaped by CDK's encoder, which AppFunction passes", () => {
    const env = resolved((stack) => (value) => stack.toJsonString(value));
    expect(remediationContract.parse(env).alarmSeverities).toEqual({ 'log-"quoted"': 'P1' });
  });

  it('is not with JSON.stringify: the variable would not parse', () => {
    expect(() => remediationContract.parse(resolved())).toThrow(/ALARM_SEVERITIES/);
  });
});

// The contracts are bundled into every Lambda: they must stay small.
describe('what the contracts bring into a bundle', () => {
  const ALLOWED = [
    /^zod$/,
    /^\.\/[a-z-]+$/,
    /^\.\.\/\.\.\/lambdas\/shared\/(env|env-json|errors)$/,
    // Regular expressions of the providers' ids, with no imports of its own.
    /^\.\.\/spend\/scope$/,
  ];

  it('core/contracts imports zod, its own modules, core/spend/scope and lambdas/shared env, env-json and errors only', () => {
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
