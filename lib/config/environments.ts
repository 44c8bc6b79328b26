import { envScopedName, SYSTEM_NAME } from '../naming';
import type { EnvironmentConfigInput, EnvironmentName } from './schema';

type Input = EnvironmentConfigInput;

/** The application image's port and health endpoint: one image, the same in every environment. */
const APP_IMAGE = { containerPort: 8000, healthCheckPath: '/health' } as const;

/** The tags of every resource of an environment (cost allocation filters on Component and Environment). */
function tagsOf(environment: EnvironmentName): Record<string, string> {
  return {
    Project: SYSTEM_NAME,
    Environment: environment,
    CostCenter: 'fa-ai-platform',
    Owner: 'platform-team',
  };
}

/** What sets one environment apart from the others; environmentOf adds what they all share. */
interface EnvironmentDifferences {
  readonly account?: string;
  readonly network: Omit<Input['network'], 'maxAzs' | 'natGateways'>;
  readonly service: Omit<Input['service'], keyof typeof APP_IMAGE | 'imageRepositoryName'>;
  readonly tls: Input['tls'];
  readonly alerts: Input['alerts'];
  readonly database: Omit<Input['database'], 'allocatedStorageGiB'>;
  readonly cache?: Pick<Input['cache'], 'snapshotRetentionDays'>;
  readonly budgets: Input['budgets'];
  readonly costBudgetUsd: Input['costBudgetUsd'];
  readonly protection: Input['protection'];
}

/**
 * One environment: its own values on what every environment shares. One region; two zones
 * with one NAT (zonal egress risk accepted, README: Cost); the one image in a repository named
 * by the environment; a first deploy all on blue; the smallest RDS gp3 volume (storage
 * autoscaling grows it); one cache node (embeddings are recomputed on a miss).
 */
function environmentOf(envName: EnvironmentName, own: EnvironmentDifferences): Input {
  const { account, network, service, database, cache, ...rest } = own;
  return {
    envName,
    ...(account === undefined ? {} : { account }),
    region: 'us-east-1',
    network: { maxAzs: 2, natGateways: 1, ...network },
    service: { ...service, ...APP_IMAGE, imageRepositoryName: envScopedName(envName, SYSTEM_NAME) },
    traffic: { blueWeight: 100, greenWeight: 0 },
    database: { allocatedStorageGiB: 20, ...database },
    cache: { nodeType: 'cache.t4g.micro', replicas: 0, multiAz: false, ...cache },
    tags: tagsOf(envName),
    ...rest,
  };
}

/**
 * The values of each environment. The account ids and certificate ARNs of staging and prod
 * are placeholders of this repository: replace them with yours (and the availability-zone
 * context in cdk.json, whose key names the account) before the first deploy.
 */
export const ENVIRONMENTS: Readonly<Record<EnvironmentName, Input>> = {
  dev: environmentOf('dev', {
    network: { natProvider: 'instance', flowLogRetentionDays: 7 },
    service: {
      cpu: 256,
      memoryMiB: 512,
      containerInsights: false,
      blue: { imageTag: 'v1.0.0', desiredCount: 1, minCount: 1, maxCount: 2 },
      green: { imageTag: 'v1.0.0', desiredCount: 0, minCount: 0, maxCount: 2 },
      logRetentionDays: 14,
    },
    tls: { allowHttpOnly: true },
    alerts: { emails: ['fa-ai-dev-alerts@example.com'] },
    database: { instanceClass: 't4g.micro', multiAz: false, maxAllocatedStorageGiB: 50 },
    cache: { snapshotRetentionDays: 1 },
    budgets: { monthlyUsd: 300, componentsUsd: { batch: 150, interactive: 70, infrastructure: 80 } },
    // $80 until the spend guard (issue #17): its GetMetricData, its metrics and the LlmCostUsd series add $3.72.
    costBudgetUsd: 85,
    protection: { terminationProtection: false, retainData: false },
  }),
  staging: environmentOf('staging', {
    account: '111111111111',
    network: { flowLogRetentionDays: 30 },
    service: {
      cpu: 512,
      memoryMiB: 1024,
      blue: { imageTag: 'v1.0.0', desiredCount: 1, minCount: 1, maxCount: 4 },
      green: { imageTag: 'v1.0.0', desiredCount: 1, minCount: 1, maxCount: 4 },
      logRetentionDays: 30,
    },
    tls: {
      certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-4333-8444-555555555555',
    },
    alerts: {
      emails: ['fa-ai-staging-alerts@example.com'],
      chatWebhookUrl: 'https://hooks.example.com/services/fa-ai-staging',
    },
    database: { instanceClass: 't4g.small', multiAz: false, maxAllocatedStorageGiB: 100 },
    budgets: { monthlyUsd: 500, componentsUsd: { batch: 250, interactive: 150, infrastructure: 100 } },
    costBudgetUsd: 160,
    protection: { terminationProtection: false, retainData: true },
  }),
  prod: environmentOf('prod', {
    account: '222222222222',
    network: { flowLogRetentionDays: 90 },
    service: {
      cpu: 512,
      memoryMiB: 1024,
      blue: { imageTag: 'v1.0.0', desiredCount: 2, minCount: 2, maxCount: 10 },
      green: { imageTag: 'v1.0.0', desiredCount: 1, minCount: 1, maxCount: 10 },
      logRetentionDays: 365,
    },
    tls: {
      certificateArn: 'arn:aws:acm:us-east-1:222222222222:certificate/66666666-7777-4888-9999-000000000000',
    },
    alerts: {
      emails: ['manager@example.com', 'fa-ai-oncall@example.com'],
      chatWebhookUrl: 'https://hooks.example.com/services/fa-ai-prod',
      pagerEndpointUrl: 'https://events.pagerduty.com/integration/fa-ai-prod/enqueue',
    },
    database: { instanceClass: 't4g.small', multiAz: true, maxAllocatedStorageGiB: 200 },
    budgets: { monthlyUsd: 2000, componentsUsd: { batch: 1200, interactive: 600, infrastructure: 200 } },
    costBudgetUsd: 200,
    protection: { terminationProtection: true, retainData: true },
  }),
};
