import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AssemblyEstimate,
  AssemblyNotFoundError,
  estimateAssembly,
  type MetricIdentity,
  monthlyTotalsByEnvironment,
  runCostCli,
} from '../../lib/cost';

let dir: string;
let estimate: AssemblyEstimate;

const NAT = { Type: 'AWS::EC2::NatGateway', Properties: {} };
const KEY = { Type: 'AWS::KMS::Key', Properties: {} };
const SERVICE = {
  Td: {
    Type: 'AWS::ECS::TaskDefinition',
    Properties: {
      Cpu: '256',
      Memory: '512',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64' },
    },
  },
  Svc: {
    Type: 'AWS::ECS::Service',
    Properties: { LaunchType: 'FARGATE', DesiredCount: 1, TaskDefinition: { Ref: 'Td' } },
  },
  Errors: {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      Namespace: 'FA-AI-System',
      MetricName: 'QueryCount',
      Dimensions: [
        { Name: 'Environment', Value: 'dev' },
        { Name: 'Tier', Value: 'hook' },
      ],
      Period: 300,
    },
  },
};

/** A cloud assembly as `cdk synth` writes it: a manifest naming each stack's template and environment. */
function writeAssembly(
  stacks: Record<string, { region: string; resources: object; component?: string }>,
  out = mkdtempSync(join(tmpdir(), 'fa-cost-assembly-')),
): string {
  mkdirSync(out, { recursive: true });
  const artifacts: Record<string, unknown> = {
    Tree: { type: 'cdk:tree', properties: { file: 'tree.json' } },
  };
  for (const [name, stack] of Object.entries(stacks)) {
    writeFileSync(join(out, `${name}.template.json`), JSON.stringify({ Resources: stack.resources }));
    artifacts[name] = {
      type: 'aws:cloudformation:stack',
      environment: `aws://unknown-account/${stack.region}`,
      properties: {
        templateFile: `${name}.template.json`,
        tags: { Component: stack.component ?? 'infrastructure' },
      },
    };
  }
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts }));
  return out;
}

beforeAll(async () => {
  dir = writeAssembly({
    'fa-ai-system-dev-stateful': { region: 'us-east-1', resources: { Nat: NAT, Key: KEY } },
    'fa-ai-system-dev-service': { region: 'us-east-1', resources: SERVICE, component: 'interactive' },
    'fa-ai-system-eu-stateful': { region: 'eu-west-1', resources: { Nat: NAT } },
  });
  estimate = await estimateAssembly(dir, {
    appMetrics: (env): MetricIdentity[] => [
      { namespace: 'FA-AI-System', name: 'QueryCount', dimensions: { Environment: env, Tier: 'hook' } },
      { namespace: 'FA-AI-System', name: 'QueryLatency', dimensions: { Environment: env } },
    ],
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) } };
}

describe('estimateAssembly', () => {
  it('groups stacks by the environment in their name, with per-stack lines', () => {
    expect(estimate.environments.map((e) => e.envName)).toEqual(['dev', 'eu']);
    const dev = estimate.environments[0];
    expect(dev?.stacks.map((s) => [s.stackName, s.component])).toEqual([
      ['fa-ai-system-dev-stateful', 'infrastructure'],
      ['fa-ai-system-dev-service', 'interactive'],
    ]);
    expect(dev?.stacks[0]?.fixed.map((i) => i.resource)).toEqual(['Nat', 'Key']);
  });

  it('adds the application metrics to the stack running the application, once with the template ones', () => {
    const service = estimate.environments[0]?.stacks[1];
    // QueryCount/hook is both read by the alarm and in the catalogue: 2 metrics, not 3.
    expect(service?.fixed.find((i) => i.type === 'Custom metrics')?.quantity).toBe(2);
    expect(estimate.environments[0]?.stacks[0]?.fixed.some((i) => i.type === 'Custom metrics')).toBe(false);
  });

  it('sums each environment: monthlyTotalsByEnvironment is what a review compares', () => {
    const fargate = 730 * (0.25 * 0.03238 + 0.5 * 0.00356);
    const alarm = 0.1;
    const metrics = 2 * 0.3;
    expect(monthlyTotalsByEnvironment(estimate)).toEqual({
      dev: Math.round((32.85 + 1 + fargate + alarm + metrics) * 100) / 100,
      eu: 32.85,
    });
  });

  it("reads the region from the manifest and warns when it falls back to us-east-1's prices", () => {
    const eu = estimate.environments[1]?.stacks[0];
    expect(eu?.region).toBe('eu-west-1');
    expect(eu?.warnings.join('\n')).toMatch(/WARNING: no price table for region 'eu-west-1'/);
  });

  it('fails clearly without an assembly', async () => {
    await expect(estimateAssembly(join(dir, 'missing'))).rejects.toThrow(AssemblyNotFoundError);
    await expect(estimateAssembly(join(dir, 'missing'))).rejects.toThrow(/run `npx cdk synth` first/);
  });
});

describe('npm run cost', () => {
  it('prints a table per environment with usage, unpriced, free and the budget, exit 0 within budget', async () => {
    const { out, io } = capture();
    const code = await runCostCli(['--assembly', dir, '--env', 'dev'], { ...io, budgets: { dev: 80 } });
    const text = out.join('\n');
    expect(code).toBe(0);
    expect(text).toContain('=== dev (us-east-1)');
    expect(text).toMatch(
      /stateful\s+Nat\s+EC2::NatGateway\s+NAT gateway\s+730\s+NAT gateway-hour\s+\$0\.045\s+32\.85/,
    );
    expect(text).toContain('Depends on usage (not in the total)');
    expect(text).toContain('UNPRICED (NOT in the total): none');
    expect(text).toMatch(/TOTAL fixed dev: \$\d+\.\d\d\/month of \$80\.00 budget \(\d+%\): within budget/);
    expect(text).not.toContain('=== eu');
  });

  it('exits 1 and names the figure when an environment is over its budget', async () => {
    const { out, err, io } = capture();
    const code = await runCostCli(['--assembly', dir], { ...io, budgets: { dev: 40, eu: 100 } });
    expect(code).toBe(1);
    expect(out.join('\n')).toContain('OVER BUDGET by $');
    expect(err).toEqual([
      expect.stringMatching(/^dev: estimated \$\d+\.\d\d\/month exceeds its budget of \$40\.00$/),
    ]);
  });

  it('prints JSON with the budget checks', async () => {
    const { out, io } = capture();
    const code = await runCostCli(['--assembly', dir, '--json', '--env=eu'], { ...io, budgets: { eu: 10 } });
    const json = JSON.parse(out.join('\n'));
    expect(code).toBe(1);
    expect(json.environments.map((e: any) => e.envName)).toEqual(['eu']);
    expect(json.budgets).toEqual([
      { envName: 'eu', monthlyFixedUsd: 32.85, unpricedCount: 0, budgetUsd: 10, withinBudget: false },
    ]);
  });

  it.each([
    [['--env', 'qa'], /UnknownEnvironmentError: Unknown environment 'qa': .* holds dev, eu/],
    [['--frobnicate'], /CostUsageError: Unknown option '--frobnicate'/],
    [['--assembly'], /--assembly needs a value/],
    [['--assembly', '--json'], /--assembly needs a value: <dir>/],
    [['--json=yes'], /CostUsageError: --json takes no value \(given 'yes'\)/],
    [['--env='], /CostUsageError: --env '': expected a value, not an empty one/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const { err, io } = capture();
    const code = await runCostCli(args[0] === '--assembly' ? args : ['--assembly', dir, ...args], io);
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('exits 2 when the assembly directory does not exist', async () => {
    const { err, io } = capture();
    expect(await runCostCli(['--assembly', join(dir, 'nope')], io)).toBe(2);
    expect(err.join('\n')).toMatch(/AssemblyNotFoundError: No cloud assembly at .*nope/);
  });
});

describe('nested assemblies', () => {
  it('reads the stacks of a stage assembly in a sub-directory', async () => {
    const outer = writeAssembly({});
    try {
      writeAssembly(
        { 'fa-ai-system-qa-stateful': { region: 'us-east-1', resources: { Key: KEY } } },
        join(outer, 'assembly-qa'),
      );
      const manifest = {
        version: '55.0.0',
        artifacts: { qa: { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-qa' } } },
      };
      writeFileSync(join(outer, 'manifest.json'), JSON.stringify(manifest));
      expect(monthlyTotalsByEnvironment(await estimateAssembly(outer))).toEqual({ qa: 1 });
    } finally {
      rmSync(outer, { recursive: true, force: true });
    }
  });
});
