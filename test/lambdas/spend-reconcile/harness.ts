/**
 * The reconciliation handler's world, for its handler tests and its fault-matrix cells: both
 * providers as local HTTP servers with November 2026's bills, the application's matching
 * LlmCostUsd series in the CloudWatch fake, the admin key secrets in a Secrets Manager fake
 * (documented GetSecretValue shape), a test clock, and the EMF documents the handler writes.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll } from 'vitest';
import { spendReconcileContract } from '../../../core/contracts/spend-reconcile';
import type * as Handler from '../../../lambdas/spend-reconcile/handler';
import { observability } from '../../helpers/aws';
import { testClient } from '../../helpers/aws-clients';
import { mockClient } from '../../helpers/aws-mock';
import { llmCost, type Series, serveCloudWatch } from './cloudwatch';
import {
  ANTHROPIC_KEY,
  anthropicCostReport,
  type Bill,
  FakeClock,
  LocalApi,
  OPENAI_KEY,
  openAiCosts,
} from './providers';

export const SECRET_ARNS = {
  anthropic:
    'arn:aws:secretsmanager:us-east-1:222222222222:secret:fa-ai-system/prod/anthropic-admin-key-AbCdEf',
  openai: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:fa-ai-system/prod/openai-admin-key-GhIjKl',
} as const;

/** The function's environment as the construct sets it in prod (the contract's serializer). */
export const ENV: Readonly<Record<string, string>> = spendReconcileContract.serialize({
  environment: 'prod',
  anthropicAdminKeySecretArn: SECRET_ARNS.anthropic,
  openaiAdminKeySecretArn: SECRET_ARNS.openai,
  maxDiscrepancyPercent: 5,
  minDiscrepancyUsd: 1,
  settleHours: 6,
  anthropicWorkspaceIds: [],
  openaiProjectIds: [],
});

/** The schedule's run of 1 December 2026, 06:00 in New York. */
export const SCHEDULED = { scheduledTime: '2026-12-01T11:00:00Z' } as const;
export const NOW = new Date(SCHEDULED.scheduledTime);

const november = (perDay: number): Bill =>
  Object.fromEntries(
    Array.from({ length: 30 }, (_, i) => [`2026-11-${String(i + 1).padStart(2, '0')}`, [{ usd: perDay }]]),
  );
const reported = (provider: string, perDay: number): Series =>
  llmCost(
    provider,
    Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`2026-11-${String(i + 1).padStart(2, '0')}`, perDay]),
    ),
  );

/** The healthy world's providers: their November bills, 12 buckets a page. */
export const healthyBills = {
  anthropic: anthropicCostReport(november(20), { pageSize: 12 }),
  openai: openAiCosts(november(1), { pageSize: 12 }),
};

export const secretsMock = mockClient(SecretsManagerClient);

/** The providers' servers of the file, started before its tests. */
export const apis = {} as { anthropic: LocalApi; openai: LocalApi };

/** Starts both providers' servers for the calling test file. */
export function useProviders(): void {
  beforeAll(async () => {
    [apis.anthropic, apis.openai] = await Promise.all([LocalApi.start(), LocalApi.start()]);
  });
  afterAll(async () => {
    await Promise.all([apis.anthropic.close(), apis.openai.close()]);
  });
}

/** One test's world: what it can change before the handler runs, and what it observes after. */
export interface World {
  clock: FakeClock;
  secretValues: Record<string, string>;
  emf: Array<Record<string, unknown>>;
  /** A Secrets Manager client of its own: the key cache is per client (per execution environment). */
  secrets: SecretsManagerClient;
  observability: ReturnType<typeof observability>;
}

/**
 * A healthy world on 1 December 2026: Anthropic bills $20 and OpenAI $1 a day through November,
 * the application reported exactly that, both admin keys are set.
 */
export function healthyWorld(now: Date = NOW): World {
  const clock = new FakeClock(now.getTime());
  for (const api of [apis.anthropic, apis.openai]) api.clock = () => new Date(clock.now());
  apis.anthropic.respond(healthyBills.anthropic);
  apis.openai.respond(healthyBills.openai);
  serveCloudWatch([reported('anthropic', 20), reported('openai', 1)]);
  const secretValues: Record<string, string> = {
    [SECRET_ARNS.anthropic]: ANTHROPIC_KEY,
    [SECRET_ARNS.openai]: OPENAI_KEY,
  };
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
    const value = secretValues[input.SecretId];
    if (value === undefined) throw new Error(`no secret ${input.SecretId}`);
    return {
      ARN: input.SecretId,
      Name: input.SecretId.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, ''),
      VersionId: 'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1',
      SecretString: value,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: new Date('2026-10-01T00:00:00Z'),
    };
  });
  const obs = observability('spend-reconcile');
  return {
    clock,
    secretValues,
    emf: obs.emf,
    secrets: testClient(SecretsManagerClient, { region: 'us-east-1' }),
    observability: obs,
  };
}

export const cloudwatch = testClient(CloudWatchClient, { region: 'us-east-1' });

/** The handler's dependencies in `world`: its clock for the function and the HTTP deadline. */
export function depsOf(world: World, overrides: Partial<Handler.HandlerDeps> = {}): Handler.HandlerDeps {
  return {
    cloudwatch,
    secrets: world.secrets,
    env: ENV,
    now: world.clock.date,
    remainingTimeMs: 120_000,
    baseUrls: { anthropic: apis.anthropic.url, openai: apis.openai.url },
    http: { now: world.clock.now, sleep: world.clock.sleep, random: () => 0.5 },
    observability: { logger: world.observability.logger, metrics: world.observability.metrics },
    ...overrides,
  };
}

/** One published metric: its name, value and dimensions, from an EMF document. */
export interface Published {
  readonly name: string;
  readonly value: unknown;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Every metric of the EMF documents written. */
export function published(emf: ReadonlyArray<Record<string, unknown>>): Published[] {
  return emf.flatMap((doc) => {
    const directive = (
      doc._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> }
    ).CloudWatchMetrics[0];
    const dims = Object.fromEntries((directive?.Dimensions[0] ?? []).map((d) => [d, String(doc[d])]));
    return (directive?.Metrics ?? []).map((m) => ({ name: m.Name, value: doc[m.Name], dimensions: dims }));
  });
}

/** The value of the metric `name` whose dimensions include `dims`; undefined when not published. */
export function metricOf(
  emf: ReadonlyArray<Record<string, unknown>>,
  name: string,
  dims: Readonly<Record<string, string>> = {},
): unknown {
  return published(emf).find(
    (m) => m.name === name && Object.entries(dims).every(([k, v]) => m.dimensions[k] === v),
  )?.value;
}
