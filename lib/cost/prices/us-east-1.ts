import type { PriceTable } from './types';

/**
 * us-east-1 on-demand list prices (Linux, USD, no free tier, no savings plans).
 *
 * Written offline: the figures were recalled from the public AWS pricing pages as they stood
 * in 2025, not fetched from the AWS Price List API. Check a figure against
 * https://aws.amazon.com/pricing/ (or `aws pricing get-products`) before relying on it, and
 * bump `version` and `date` when you correct one.
 */
export const US_EAST_1: PriceTable = {
  version: '2026-12-02.1',
  currency: 'USD',
  region: 'us-east-1',
  date: '2026-12-02',
  source:
    'Public AWS on-demand list prices for us-east-1 (aws.amazon.com/<service>/pricing) as known in 2025, ' +
    'transcribed from memory without network access; not verified against the AWS Price List API',
  hoursPerMonth: 730,
  fargate: {
    x86_64: { vcpuHour: 0.04048, gbHour: 0.004445 },
    arm64: { vcpuHour: 0.03238, gbHour: 0.00356 },
    ephemeralStorageGbHour: 0.000111,
  },
  loadBalancer: { albHour: 0.0225, lcuHour: 0.008, nlbHour: 0.0225, nlcuHour: 0.006 },
  publicIpv4Hour: 0.005,
  natGateway: { hour: 0.045, gbProcessed: 0.045 },
  ec2: { 't4g.nano': 0.0042, 't4g.micro': 0.0084, 't4g.small': 0.0168 },
  ebsGp3GbMonth: 0.08,
  vpcEndpoint: { interfaceAzHour: 0.01, gbProcessed: 0.01 },
  dataTransferOutGb: 0.09,
  rds: {
    postgres: {
      'db.t4g.micro': { hourly: 0.016, multiAzHourly: 0.032, vcpu: 2 },
      'db.t4g.small': { hourly: 0.032, multiAzHourly: 0.064, vcpu: 2 },
      'db.t4g.medium': { hourly: 0.065, multiAzHourly: 0.13, vcpu: 2 },
      'db.t4g.large': { hourly: 0.129, multiAzHourly: 0.258, vcpu: 2 },
      'db.t4g.xlarge': { hourly: 0.258, multiAzHourly: 0.516, vcpu: 4 },
      'db.t3.micro': { hourly: 0.018, multiAzHourly: 0.036, vcpu: 2 },
      'db.t3.small': { hourly: 0.036, multiAzHourly: 0.072, vcpu: 2 },
      'db.t3.medium': { hourly: 0.072, multiAzHourly: 0.144, vcpu: 2 },
      'db.t3.large': { hourly: 0.145, multiAzHourly: 0.29, vcpu: 2 },
      'db.m6g.large': { hourly: 0.159, multiAzHourly: 0.318, vcpu: 2 },
      'db.m7g.large': { hourly: 0.168, multiAzHourly: 0.336, vcpu: 2 },
    },
    storageGbMonth: { gp2: 0.115, gp3: 0.115, io1: 0.125, standard: 0.1 },
    io1IopsMonth: 0.1,
    backupGbMonth: 0.095,
    cpuCreditVcpuHour: 0.075,
  },
  rdsProxy: { vcpuHour: 0.015, minVcpu: 2 },
  elasticache: {
    nodes: {
      'cache.t4g.micro': { redis: 0.016, valkey: 0.0128 },
      'cache.t4g.small': { redis: 0.032, valkey: 0.0256 },
      'cache.t4g.medium': { redis: 0.065, valkey: 0.052 },
      'cache.t3.micro': { redis: 0.017, valkey: 0.0136 },
      'cache.t3.small': { redis: 0.034, valkey: 0.0272 },
      'cache.t3.medium': { redis: 0.068, valkey: 0.0544 },
      'cache.m6g.large': { redis: 0.149, valkey: 0.1192 },
      'cache.m7g.large': { redis: 0.158, valkey: 0.1264 },
    },
    backupGbMonth: 0.085,
  },
  kms: { keyMonth: 1, per10kRequests: 0.03 },
  secretsManager: { secretMonth: 0.4, per10kCalls: 0.05 },
  cloudWatch: {
    dashboardMonth: 3,
    alarmStandardMetric: 0.1,
    alarmHighResolutionMetric: 0.3,
    alarmComposite: 0.5,
    customMetricMonth: 0.3,
    logsIngestGb: 0.5,
    logsStorageGbMonth: 0.03,
    vendedLogsIngestGb: 0.5,
    vendedLogsS3Gb: 0.25,
    getMetricDataPer1kMetrics: 0.01,
  },
  lambda: { perMillionRequests: 0.2, gbSecond: { x86_64: 0.0000166667, arm64: 0.0000133334 } },
  stepFunctions: { standardPer1kTransitions: 0.025, expressPerMillionRequests: 1 },
  scheduler: { perMillionInvocations: 1, freeInvocationsPerMonth: 14_000_000 },
  eventBridge: { customEventsPerMillion: 1 },
  s3: { standardGbMonth: 0.023, per1kPut: 0.005, per1kGet: 0.0004 },
  dynamodb: {
    onDemandPerMillionWrites: 0.625,
    onDemandPerMillionReads: 0.125,
    storageGbMonth: 0.25,
    pitrGbMonth: 0.2,
    provisionedWcuHour: 0.00065,
    provisionedRcuHour: 0.00013,
  },
  sqs: { perMillionRequests: 0.4 },
  sns: { perMillionPublishes: 0.5, emailPer100k: 2 },
  ecr: { storageGbMonth: 0.1 },
  route53: { hostedZoneMonth: 0.5, perMillionQueries: 0.4 },
  ssm: { advancedParameterMonth: 0.05 },
};
