import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SYSTEM_NAME } from '../naming';
import { appCatalogueMetrics } from './app-metrics';
import { AssemblyNotFoundError, InvalidTemplateError } from './errors';
import { estimateTemplate } from './estimate-template';
import type { MetricIdentity } from './metrics';
import { LAMBDA_BASELINE_SECONDS } from './pricers/compute';
import { FALLBACK_PRICE_TABLE } from './prices';
import { isRecord, templateResources } from './template';
import type { AssemblyEstimate, EnvironmentEstimate, LineItem, StackEstimate } from './types';

/** Options of {@link estimateAssembly}. */
export interface AssemblyEstimateOptions {
  /**
   * Custom metrics each environment's application publishes at run time.
   * @default the application's metric catalogue (APP_METRICS)
   */
  readonly appMetrics?: (envName: string) => readonly MetricIdentity[];
}

/** The assumptions every estimate rests on, printed with it. */
export const ASSUMPTIONS: readonly string[] = [
  `A month is ${FALLBACK_PRICE_TABLE.hoursPerMonth} hours; everything declared runs all month.`,
  'The CloudWatch free tier (3 dashboards, 10 alarm metrics, 10 custom metrics per account) is credited only to an environment pinned to an account no other environment of the assembly uses; other free tiers (Lambda, Step Functions, Scheduler) are not credited.',
  `Scheduled Lambda invocations run ${LAMBDA_BASELINE_SECONDS} s each (capped by the timeout); scheduled state machine executions pass each state once.`,
  'Custom metrics: every distinct non-AWS metric the templates write or read, plus the application metric catalogue (APP_METRICS) with Environment and its extra dimension, each for the whole month; the every-run metrics likewise; the metrics of the daily spend reconciliation for one hour a day; metric filter metrics without a default value (errors only) are usage; other metrics Lambdas publish only when something happens (no alarm or dashboard reads them) are not counted.',
  'Container Insights (standard) metrics are counted per cluster, running service and task family; enhanced observability is unpriced.',
  'RDS and ElastiCache on-demand rates; no reserved instances or savings plans.',
  'Usage-based charges (traffic, requests, log volume, storage growth, data transfer) are listed with unit prices, not totalled.',
];

interface StackArtifact {
  readonly stackName: string;
  readonly region: string;
  /** The pinned account, or undefined for an environment-agnostic stack. */
  readonly account?: string;
  readonly templatePath: string;
  readonly component?: string;
}

interface Manifest {
  readonly artifacts?: Record<string, unknown>;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AssemblyNotFoundError(`Cannot read ${what} ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidTemplateError(`${what} ${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Stack artifacts of a cloud assembly, nested assemblies (stages) included. */
async function stackArtifacts(dir: string): Promise<StackArtifact[]> {
  const manifest = (await readJson(join(dir, 'manifest.json'), 'cloud assembly manifest')) as Manifest;
  if (!isRecord(manifest) || !isRecord(manifest.artifacts)) {
    throw new InvalidTemplateError(`${join(dir, 'manifest.json')} has no artifacts: is it a cloud assembly?`);
  }
  const stacks: StackArtifact[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts)) {
    if (!isRecord(artifact) || !isRecord(artifact.properties)) continue;
    const props = artifact.properties;
    if (artifact.type === 'cdk:cloud-assembly' && typeof props.directoryName === 'string') {
      stacks.push(...(await stackArtifacts(join(dir, props.directoryName))));
    }
    if (artifact.type !== 'aws:cloudformation:stack' || typeof props.templateFile !== 'string') continue;
    const environment = typeof artifact.environment === 'string' ? artifact.environment : '';
    const region = /^aws:\/\/[^/]*\/(.+)$/.exec(environment)?.[1] ?? 'unknown-region';
    const account = /^aws:\/\/(\d{12})\//.exec(environment)?.[1];
    const stackName = typeof props.stackName === 'string' ? props.stackName : id;
    const component =
      isRecord(props.tags) && typeof props.tags.Component === 'string' ? props.tags.Component : undefined;
    stacks.push({
      stackName,
      region,
      ...(account === undefined ? {} : { account }),
      templatePath: join(dir, props.templateFile),
      ...(component === undefined ? {} : { component }),
    });
  }
  return stacks;
}

const ENV_PATTERN = new RegExp(`^${SYSTEM_NAME}-([a-z0-9]+)-`);

/** The environment of a stack from its name (`fa-ai-system-<env>-<tier>`), or the name itself. */
export function environmentOfStack(stackName: string): string {
  return ENV_PATTERN.exec(stackName)?.[1] ?? stackName;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Estimates every stack of a synthesized cloud assembly (the output of `cdk synth`) and
 * groups the stacks by environment. Throws AssemblyNotFoundError when the directory or its
 * manifest is missing.
 */
export async function estimateAssembly(
  assemblyDir: string,
  options: AssemblyEstimateOptions = {},
): Promise<AssemblyEstimate> {
  const info = await stat(assemblyDir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new AssemblyNotFoundError(
      `No cloud assembly at ${assemblyDir}: run \`npx cdk synth\` first, or pass --assembly <dir>`,
    );
  }
  const artifacts = await stackArtifacts(assemblyDir);
  const templates = await Promise.all(artifacts.map((a) => readJson(a.templatePath, 'template')));
  const appMetrics = options.appMetrics ?? appCatalogueMetrics;

  const byEnv = new Map<string, Array<{ artifact: StackArtifact; template: unknown }>>();
  artifacts.forEach((artifact, i) => {
    const env = environmentOfStack(artifact.stackName);
    byEnv.set(env, [...(byEnv.get(env) ?? []), { artifact, template: templates[i] }]);
  });

  const environments: EnvironmentEstimate[] = [];
  for (const [envName, stacks] of byEnv) {
    // The application's metrics bill to the stack that runs it (the one with an ECS service);
    // an environment without one publishes none.
    const appStack = stacks.find(({ template }) =>
      templateResources(template).some(([, r]) => r.Type === 'AWS::ECS::Service'),
    );
    const counted = new Set<string>();
    const estimates: StackEstimate[] = stacks.map(({ artifact, template }) =>
      estimateTemplate(template, {
        region: artifact.region,
        stackName: artifact.stackName,
        envName,
        ...(artifact.component === undefined ? {} : { component: artifact.component }),
        countedMetrics: counted,
        publishedMetrics: artifact === appStack?.artifact ? appMetrics(envName) : [],
      }),
    );
    const accounts = new Set(stacks.map(({ artifact }) => artifact.account));
    const [account] = accounts;
    const dedicated =
      accounts.size === 1 &&
      account !== undefined &&
      artifacts.every((a) => environmentOfStack(a.stackName) === envName || a.account !== account);
    const credits = dedicated ? cloudWatchFreeTier(estimates) : [];
    environments.push({
      envName,
      stacks: estimates,
      credits,
      monthlyFixedUsd: round2(
        estimates.reduce((sum, s) => sum + s.fixed.reduce((acc, item) => acc + item.monthlyUsd, 0), 0) +
          credits.reduce((sum, c) => sum + c.monthlyUsd, 0),
      ),
      unpricedCount: estimates.reduce((sum, s) => sum + s.unpriced.length, 0),
    });
  }
  return { assemblyDir, environments, assumptions: ASSUMPTIONS };
}

/** CloudWatch's monthly free tier per account, by the unit of the line items it covers. */
const CLOUDWATCH_FREE_TIER = [
  { unit: 'dashboard-month', free: 3, what: 'dashboards' },
  { unit: 'alarm metric-month', free: 10, what: 'standard alarm metrics' },
  { unit: 'metric-month', free: 10, what: 'custom metrics' },
] as const;

/** Negative line items for the CloudWatch free tier of an account the environment has alone. */
function cloudWatchFreeTier(stacks: readonly StackEstimate[]): LineItem[] {
  const items = stacks.flatMap((s) => s.fixed);
  return CLOUDWATCH_FREE_TIER.flatMap(({ unit, free, what }) => {
    const billed = items.filter((i) => i.unit === unit);
    const quantity = Math.min(
      free,
      billed.reduce((sum, i) => sum + i.quantity, 0),
    );
    const unitPriceUsd = billed[0]?.unitPriceUsd ?? 0;
    if (quantity === 0 || unitPriceUsd === 0) return [];
    return [
      {
        stack: billed[0]?.stack ?? '',
        resource: 'CloudWatch free tier',
        type: 'Credit',
        description: `first ${free} ${what} of the account are free`,
        quantity,
        unit,
        unitPriceUsd: -unitPriceUsd,
        monthlyUsd: round2(-quantity * unitPriceUsd),
        assumption: 'the environment has an AWS account of its own',
      },
    ];
  });
}

/** The fixed monthly total of each environment, in USD: what a review compares before and after. */
export function monthlyTotalsByEnvironment(estimate: AssemblyEstimate): Record<string, number> {
  return Object.fromEntries(estimate.environments.map((env) => [env.envName, env.monthlyFixedUsd]));
}
