import { SYSTEM_NAME } from '../naming';
import type { EnvironmentConfigInput, EnvironmentName } from './schema';

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

/**
 * The values of each environment. The account ids and certificate ARNs of staging and prod
 * are placeholders of this repository: replace them with yours (and the availability-zone
 * context in cdk.json, whose key names the account) before the first deploy.
 */
export const ENVIRONMENTS: Readonly<Record<EnvironmentName, EnvironmentConfigInput>> = {
  dev: {
    envName: 'dev',
    region: 'us-east-1',
    network: { maxAzs: 2, natGateways: 1, natProvider: 'instance', flowLogRetentionDays: 7 },
    service: {
      cpu: 256,
      memoryMiB: 512,
      ...APP_IMAGE,
      imageRepositoryName: 'fa-ai-system-dev',
      containerInsights: false,
      blue: { imageTag: 'v1.0.0', desiredCount: 1, minCount: 1, maxCount: 2 },
      green: { imageTag: 'v1.0.0', desiredCount: 0, minCount: 0, maxCount: 2 },
      logRetentionDays: 14,
    },
    traffic: { blueWeight: 100, greenWeight: 0 },
    tls: { allowHttpOnly: true },
    alerts: { emails: ['fa-ai-dev-alerts@example.com'] },
    database: {
      instanceClass: 't4g.micro',
      multiAz: false,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 50,
    },
    cache: { nodeType: 'cache.t4g.micro', replicas: 0, multiAz: false, snapshotRetentionDays: 1 },
    budgets: { monthlyUsd: 300, componentsUsd: { batch: 150, interactive: 70, infrastructure: 80 } },
    // $80 until the spend guard (issue #17): its GetMetricData, its metrics and the LlmCostUsd series add $3.72.
    costBudgetUsd: 85,
    tags: tagsOf('dev'),
    protection: { terminationProtection: false, retainData: false },
  },
  staging: {
    envName: 'staging',
    account: '111111111111',
    region: 'us-east-1',
    network: { maxAzs: 2, natGateways: 1, flowLogRetentionDays: 30 },
    service: {
      cpu: 512,
      memoryMiB: 1024,
      ...APP_IMAGE,
      imageRepositoryName: 'fa-ai-system-staging',
      blue: { imageTag: 'v1.0.0', desiredCount: 1, minCount: 1, maxCount: 4 },
      green: { imageTag: 'v1.0.0', desiredCount: 1, minCount: 1, maxCount: 4 },
      logRetentionDays: 30,
    },
    traffic: { blueWeight: 100, greenWeight: 0 },
    tls: {
      certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-4333-8444-555555555555',
    },
    alerts: {
      emails: ['fa-ai-staging-alerts@example.com'],
      chatWebhookUrl: 'https://hooks.example.com/services/fa-ai-staging',
    },
    database: {
      instanceClass: 't4g.small',
      multiAz: false,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 100,
    },
    cache: { nodeType: 'cache.t4g.micro', replicas: 0, multiAz: false },
    budgets: { monthlyUsd: 500, componentsUsd: { batch: 250, interactive: 150, infrastructure: 100 } },
    costBudgetUsd: 160,
    tags: tagsOf('staging'),
    protection: { terminationProtection: false, retainData: true },
  },
  prod: {
    envName: 'prod',
    account: '222222222222',
    region: 'us-east-1',
    network: { maxAzs: 2, natGateways: 1, flowLogRetentionDays: 90 },
    service: {
      cpu: 512,
      memoryMiB: 1024,
      ...APP_IMAGE,
      imageRepositoryName: 'fa-ai-system',
      blue: { imageTag: 'v1.0.0', desiredCount: 2, minCount: 2, maxCount: 10 },
      green: { imageTag: 'v1.0.0', desiredCount: 1, minCount: 1, maxCount: 10 },
      logRetentionDays: 365,
    },
    traffic: { blueWeight: 100, greenWeight: 0 },
    tls: {
      certificateArn: 'arn:aws:acm:us-east-1:222222222222:certificate/66666666-7777-4888-9999-000000000000',
    },
    alerts: {
      emails: ['manager@example.com', 'fa-ai-oncall@example.com'],
      chatWebhookUrl: 'https://hooks.example.com/services/fa-ai-prod',
      pagerEndpointUrl: 'https://events.pagerduty.com/integration/fa-ai-prod/enqueue',
    },
    database: {
      instanceClass: 't4g.small',
      multiAz: true,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 200,
    },
    cache: { nodeType: 'cache.t4g.micro', replicas: 0, multiAz: false },
    budgets: { monthlyUsd: 2000, componentsUsd: { batch: 1200, interactive: 600, infrastructure: 200 } },
    costBudgetUsd: 200,
    tags: tagsOf('prod'),
    protection: { terminationProtection: true, retainData: true },
  },
};
