import { describe, expect, it } from 'vitest';
import { estimateTemplate } from '../../lib/cost';
import { US_EAST_1 as P } from '../../lib/cost/prices';
import { monthlyOccurrences } from '../../lib/cost/schedules';
import type { StackEstimate } from '../../lib/cost/types';
import { GET_METRIC_DATA_METRICS_METADATA, INITIAL_DESIRED_COUNT_METADATA } from '../../lib/naming';

const H = P.hoursPerMonth;

function estimate(resources: Record<string, unknown>, region = 'us-east-1'): StackEstimate {
  return estimateTemplate({ Resources: resources }, { region, stackName: 'test' });
}

/** Monthly USD of the fixed lines of one resource. */
function monthly(e: StackEstimate, resource: string): number {
  return e.fixed.filter((i) => i.resource === resource).reduce((sum, i) => sum + i.monthlyUsd, 0);
}

const ref = (id: string) => ({ Ref: id });
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

function taskDefinition(cpu: string, memory: string, arch?: 'ARM64' | 'X86_64') {
  return {
    Type: 'AWS::ECS::TaskDefinition',
    Properties: {
      Cpu: cpu,
      Memory: memory,
      RequiresCompatibilities: ['FARGATE'],
      ...(arch ? { RuntimePlatform: { CpuArchitecture: arch, OperatingSystemFamily: 'LINUX' } } : {}),
    },
  };
}

function fargateService(taskDef: string, desired: number) {
  return {
    Type: 'AWS::ECS::Service',
    Properties: { LaunchType: 'FARGATE', DesiredCount: desired, TaskDefinition: ref(taskDef) },
  };
}

describe('Fargate services', () => {
  const e = estimate({
    ArmTd: taskDefinition('1024', '2048', 'ARM64'),
    X86Td: taskDefinition('512', '1024'),
    Blue: fargateService('ArmTd', 2),
    Green: fargateService('ArmTd', 0),
    Legacy: fargateService('X86Td', 3),
    BatchTd: taskDefinition('1024', '2048', 'ARM64'),
  });

  it('prices desired count x vCPU and GB hours at the ARM64 rate', () => {
    expect(monthly(e, 'Blue')).toBeCloseTo(
      2 * H * (1 * P.fargate.arm64.vcpuHour + 2 * P.fargate.arm64.gbHour),
      6,
    );
    expect(monthly(e, 'Blue')).toBeCloseTo(57.67, 2);
  });

  it('prices x86 tasks (no RuntimePlatform) at the x86 rate', () => {
    expect(monthly(e, 'Legacy')).toBeCloseTo(
      3 * H * (0.5 * P.fargate.x86_64.vcpuHour + 1 * P.fargate.x86_64.gbHour),
      6,
    );
    expect(P.fargate.arm64.vcpuHour).toBeLessThan(P.fargate.x86_64.vcpuHour);
  });

  it('shows a colour with no desired tasks at zero, and an idle task definition as usage', () => {
    expect(e.fixed.filter((i) => i.resource === 'Green').map((i) => i.monthlyUsd)).toEqual([0, 0]);
    expect(monthly(e, 'BatchTd')).toBe(0);
    expect(e.usage.find((u) => u.resource === 'BatchTd')?.unitPrices[0]?.usd).toBeCloseTo(
      P.fargate.arm64.vcpuHour + 2 * P.fargate.arm64.gbHour,
      8,
    );
    expect(e.free.map((f) => f.resource).sort()).toEqual(['ArmTd', 'X86Td']);
  });

  it('prices a service without DesiredCount at the count set at its creation (template metadata)', () => {
    const live = estimate({
      ArmTd: taskDefinition('1024', '2048', 'ARM64'),
      Blue: {
        Type: 'AWS::ECS::Service',
        Metadata: { [INITIAL_DESIRED_COUNT_METADATA]: 2 },
        Properties: { LaunchType: 'FARGATE', TaskDefinition: ref('ArmTd') },
      },
      Unseeded: {
        Type: 'AWS::ECS::Service',
        Properties: { LaunchType: 'FARGATE', TaskDefinition: ref('ArmTd') },
      },
    });
    expect(monthly(live, 'Blue')).toBeCloseTo(monthly(e, 'Blue'), 6);
    expect(live.fixed.find((i) => i.resource === 'Blue')?.assumption).toContain('set at creation');
    expect(monthly(live, 'Unseeded')).toBeCloseTo(monthly(e, 'Blue') / 2, 6);
  });

  it('adds storage beyond the free 20 GB and a public IPv4 per task, after vCPU and memory', () => {
    const td = taskDefinition('1024', '2048', 'ARM64');
    const exposed = estimate({
      Td: { ...td, Properties: { ...td.Properties, EphemeralStorage: { SizeInGiB: 50 } } },
      Svc: {
        Type: 'AWS::ECS::Service',
        Properties: {
          LaunchType: 'FARGATE',
          DesiredCount: 2,
          TaskDefinition: ref('Td'),
          NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } },
        },
      },
    });
    const lines = exposed.fixed.filter((i) => i.resource === 'Svc');
    expect(lines.map((i) => [i.description, i.quantity, i.unit, i.unitPriceUsd])).toEqual([
      ['2 tasks x 1 vCPU / 2 GB ARM64: vCPU', 2 * H, 'vCPU-hour', P.fargate.arm64.vcpuHour],
      ['2 tasks x 1 vCPU / 2 GB ARM64: memory', 4 * H, 'GB-hour', P.fargate.arm64.gbHour],
      [
        '2 tasks x 1 vCPU / 2 GB ARM64: ephemeral storage beyond 20 GB',
        60 * H,
        'GB-hour',
        P.fargate.ephemeralStorageGbHour,
      ],
      [
        '2 tasks x 1 vCPU / 2 GB ARM64: public IPv4 address per task',
        2 * H,
        'IPv4 address-hour',
        P.publicIpv4Hour,
      ],
    ]);
    expect(lines.map((i) => i.assumption)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('reports a service whose task definition is elsewhere as unpriced', () => {
    const external = estimate({
      Svc: { Type: 'AWS::ECS::Service', Properties: { LaunchType: 'FARGATE', TaskDefinition: 'arn:task' } },
    });
    expect(external.unpriced.map((u) => u.resource)).toEqual(['Svc']);
    expect(external.fixed).toEqual([]);
  });
});

describe('network', () => {
  it('prices an internet-facing ALB by the hour plus one public IPv4 per zone; an internal one without', () => {
    const e = estimate({
      Public: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Subnets: ['a', 'b'] } },
      Internal: {
        Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
        Properties: { Scheme: 'internal', Subnets: ['a', 'b'] },
      },
    });
    expect(monthly(e, 'Public')).toBeCloseTo(H * P.loadBalancer.albHour + 2 * H * P.publicIpv4Hour, 6);
    expect(monthly(e, 'Internal')).toBeCloseTo(16.425, 6);
    expect(e.usage.find((u) => u.resource === 'Public')?.unitPrices.map((u) => u.per)).toContain('LCU-hour');
  });

  it('prices a NAT gateway and its Elastic IP', () => {
    const e = estimate({
      Eip: { Type: 'AWS::EC2::EIP', Properties: { Domain: 'vpc' } },
      Nat: { Type: 'AWS::EC2::NatGateway', Properties: { AllocationId: arn('Eip') } },
    });
    expect(monthly(e, 'Nat')).toBeCloseTo(32.85, 6);
    expect(monthly(e, 'Eip')).toBeCloseTo(3.65, 6);
    expect(e.usage.find((u) => u.resource === 'Nat')?.unitPrices).toEqual([
      { usd: P.natGateway.gbProcessed, per: 'GB processed' },
    ]);
  });

  it('prices an interface endpoint per zone-hour and a gateway endpoint as free', () => {
    const e = estimate({
      Ecr: {
        Type: 'AWS::EC2::VPCEndpoint',
        Properties: {
          VpcEndpointType: 'Interface',
          ServiceName: 'com.amazonaws.us-east-1.ecr.dkr',
          SubnetIds: ['a', 'b'],
        },
      },
      S3: { Type: 'AWS::EC2::VPCEndpoint', Properties: { ServiceName: 'com.amazonaws.us-east-1.s3' } },
    });
    expect(monthly(e, 'Ecr')).toBeCloseTo(2 * H * P.vpcEndpoint.interfaceAzHour, 6);
    expect(monthly(e, 'S3')).toBe(0);
    expect(e.free.map((f) => f.resource)).toEqual(['S3']);
  });
});

describe('data tier', () => {
  const db = (instanceClass: string, multiAz: boolean, storage: string) => ({
    Type: 'AWS::RDS::DBInstance',
    Properties: {
      Engine: 'postgres',
      DBInstanceClass: instanceClass,
      MultiAZ: multiAz,
      AllocatedStorage: storage,
      StorageType: 'gp3',
    },
  });

  it('prices a Single-AZ instance and its gp3 storage once', () => {
    const e = estimate({ Db: db('db.t4g.micro', false, '20') });
    expect(monthly(e, 'Db')).toBeCloseTo(H * 0.016 + 20 * 0.115, 6);
  });

  it('prices a Multi-AZ instance at the Multi-AZ rate and its storage twice', () => {
    const e = estimate({ Db: db('db.t4g.small', true, '100') });
    expect(monthly(e, 'Db')).toBeCloseTo(H * 0.064 + 2 * 100 * 0.115, 6);
    expect(e.fixed.map((i) => i.description)).toContain('100 GB gp3 storage x 2 (Multi-AZ)');
  });

  it('reports an instance class missing from the table as unpriced, not zero', () => {
    const e = estimate({ Db: db('db.x2iedn.32xlarge', false, '20') });
    expect(e.fixed).toEqual([]);
    expect(e.unpriced).toEqual([
      expect.objectContaining({ resource: 'Db', reason: expect.stringContaining('x2iedn') }),
    ]);
  });

  it('prices RDS Proxy on the vCPUs of its instance, at least two', () => {
    const e = estimate({
      Db: db('db.t4g.small', true, '20'),
      Proxy: { Type: 'AWS::RDS::DBProxy', Properties: { EngineFamily: 'POSTGRESQL' } },
      ProxyTargets: {
        Type: 'AWS::RDS::DBProxyTargetGroup',
        Properties: { DBProxyName: ref('Proxy'), DBInstanceIdentifiers: [ref('Db')] },
      },
    });
    expect(monthly(e, 'Proxy')).toBeCloseTo(2 * H * P.rdsProxy.vcpuHour, 6);
    expect(monthly(e, 'Proxy')).toBeCloseTo(21.9, 6);
    expect(e.free.map((f) => f.resource)).toContain('ProxyTargets');
  });

  it('prices ElastiCache per node: one node vs a primary with a replica, Valkey below Redis', () => {
    const group = (nodes: number, engine: string) => ({
      Type: 'AWS::ElastiCache::ReplicationGroup',
      Properties: { CacheNodeType: 'cache.t4g.micro', NumCacheClusters: nodes, Engine: engine },
    });
    const e = estimate({ One: group(1, 'valkey'), Two: group(2, 'valkey'), Redis: group(1, 'redis') });
    expect(monthly(e, 'One')).toBeCloseTo(H * 0.0128, 6);
    expect(monthly(e, 'Two')).toBeCloseTo(2 * monthly(e, 'One'), 6);
    expect(monthly(e, 'Redis')).toBeCloseTo(H * 0.016, 6);
  });

  it('charges KMS keys and secrets per month, and lists their API calls as usage', () => {
    const e = estimate({
      Key: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } },
      Alias: { Type: 'AWS::KMS::Alias', Properties: { TargetKeyId: ref('Key') } },
      S1: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
      S2: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
    });
    expect(monthly(e, 'Key')).toBe(1);
    expect(monthly(e, 'S1') + monthly(e, 'S2')).toBeCloseTo(0.8, 6);
    expect(e.monthlyFixedUsd).toBe(1.8);
    expect(e.usage.map((u) => u.resource).sort()).toEqual(['Key', 'S1', 'S2']);
  });

  it('lists on-demand DynamoDB and S3 as usage only, and prices provisioned capacity', () => {
    const e = estimate({
      OnDemand: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'PAY_PER_REQUEST' } },
      Provisioned: {
        Type: 'AWS::DynamoDB::Table',
        Properties: { ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } },
      },
      Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    });
    expect(monthly(e, 'OnDemand')).toBe(0);
    expect(monthly(e, 'Bucket')).toBe(0);
    expect(monthly(e, 'Provisioned')).toBeCloseTo(
      5 * H * (P.dynamodb.provisionedWcuHour + P.dynamodb.provisionedRcuHour),
      6,
    );
    expect(e.usage.map((u) => u.resource)).toEqual(['OnDemand', 'Provisioned', 'Bucket']);
  });
});

describe('observability', () => {
  const alarm = (props: Record<string, unknown>) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: { EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', ...props },
  });
  const metricStat = (id: string, namespace: string, name: string, period: number) => ({
    Id: id,
    ReturnData: false,
    MetricStat: { Metric: { Namespace: namespace, MetricName: name }, Period: period, Stat: 'Sum' },
  });
  const e = estimate({
    Dashboard: { Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardBody: '{"widgets":[]}' } },
    Standard: alarm({ Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_ELB_5XX_Count', Period: 60 }),
    MetricMath: alarm({
      Metrics: [
        { Id: 'rate', Expression: '(a + b) / c' },
        metricStat('a', 'AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', 300),
        metricStat('b', 'AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count', 300),
        metricStat('c', 'AWS/ApplicationELB', 'RequestCount', 300),
      ],
    }),
    HighRes: alarm({ Namespace: 'App', MetricName: 'Errors', Period: 10 }),
    Composite: { Type: 'AWS::CloudWatch::CompositeAlarm', Properties: { AlarmRule: 'ALARM(a)' } },
    ErrorsFilter: {
      Type: 'AWS::Logs::MetricFilter',
      Properties: {
        MetricTransformations: [{ MetricNamespace: 'App', MetricName: 'Errors', MetricValue: '1' }],
      },
    },
    RequestsFilter: {
      Type: 'AWS::Logs::MetricFilter',
      Properties: {
        MetricTransformations: [
          { MetricNamespace: 'App', MetricName: 'Requests', MetricValue: '1', DefaultValue: 0 },
        ],
      },
    },
    Heartbeat: alarm({ Namespace: 'App', MetricName: 'Heartbeat', Period: 300 }),
  });

  it('prices a dashboard at $3 a month, free tier not credited', () => {
    expect(monthly(e, 'Dashboard')).toBe(3);
    expect(e.fixed.find((i) => i.resource === 'Dashboard')?.assumption).toMatch(/free tier is not credited/);
  });

  it('prices alarms per metric: metric math alarms per metric read, high resolution and composite higher', () => {
    const standard = e.fixed.find((i) => i.type === 'AWS::CloudWatch::Alarm' && i.unitPriceUsd === 0.1);
    const high = e.fixed.find((i) => i.type === 'AWS::CloudWatch::Alarm' && i.unitPriceUsd === 0.3);
    const composite = e.fixed.find((i) => i.type === 'AWS::CloudWatch::CompositeAlarm');
    expect(standard).toMatchObject({ resource: '3 alarms', quantity: 5 });
    expect(high).toMatchObject({ resource: '1 alarm', quantity: 1 });
    expect(composite?.monthlyUsd).toBe(0.5);
  });

  it('counts steady custom metrics once each, none from AWS/*, and leaves error-only filter metrics to usage', () => {
    // Requests (filter with a default value) and Heartbeat (read by an alarm) bill all month;
    // Errors appears only when a log line matches, even though an alarm reads it.
    const metrics = e.fixed.find((i) => i.type === 'Custom metrics');
    expect(metrics).toMatchObject({ quantity: 2, unitPriceUsd: 0.3 });
    expect(metrics?.assumption).toMatch(/^ASSUMPTION/);
    expect(e.usage.find((u) => u.type === 'Custom metrics')).toMatchObject({
      resource: '1 metric',
      unitPrices: [{ usd: 0.3 / H, per: 'metric-hour with data' }],
    });
    expect(e.monthlyFixedUsd).toBeCloseTo(3 + 0.5 + 0.3 + 0.5 + 0.6, 6);
  });

  it('prices a published metric with a daily cadence for one hour a day, even when an alarm reads it', () => {
    const daily = { namespace: 'App', name: 'Verdict', dimensions: {}, cadence: 'daily' as const };
    const d = estimateTemplate(
      { Resources: { Watch: alarm({ Namespace: 'App', MetricName: 'Verdict', Period: 86400 }) } },
      {
        region: 'us-east-1',
        publishedMetrics: [daily, { namespace: 'App', name: 'Steady', dimensions: {} }],
      },
    );
    const lines = d.fixed.filter((i) => i.type === 'Custom metrics');
    expect(lines.find((i) => i.unit === 'metric-month')).toMatchObject({ quantity: 1 });
    expect(lines.find((i) => i.unit === 'metric-hour')).toMatchObject({ resource: '1 metric' });
    expect(lines.find((i) => i.unit === 'metric-hour')?.monthlyUsd).toBeCloseTo(0.3 / 24, 2);
  });

  it('prices Container Insights metrics for the cluster and each running service and family', () => {
    const cluster = (mode?: string) => ({
      Type: 'AWS::ECS::Cluster',
      Properties: mode ? { ClusterSettings: [{ Name: 'containerInsights', Value: mode }] } : {},
    });
    const service = (desired: number, td: string) => ({
      Type: 'AWS::ECS::Service',
      Properties: {
        Cluster: ref('Cluster'),
        LaunchType: 'FARGATE',
        DesiredCount: desired,
        TaskDefinition: ref(td),
      },
    });
    const withInsights = estimate({
      Cluster: cluster('enabled'),
      Blue: service(2, 'BlueTd'),
      Green: service(0, 'GreenTd'),
      BlueTd: {
        ...taskDefinition('256', '512', 'ARM64'),
        Properties: { ...taskDefinition('256', '512').Properties, Family: 'blue' },
      },
      GreenTd: taskDefinition('256', '512', 'ARM64'),
    });
    expect(withInsights.fixed.find((i) => i.resource === 'Cluster')).toMatchObject({
      quantity: 12 + 15 + 11,
      unitPriceUsd: 0.3,
    });
    expect(estimate({ Cluster: cluster() }).free.map((f) => f.resource)).toEqual(['Cluster']);
    expect(estimate({ Cluster: cluster('enhanced') }).unpriced.map((u) => u.resource)).toEqual(['Cluster']);
  });
});

describe('scheduled baselines', () => {
  const e = estimate({
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: { MemorySize: 256, Architectures: ['arm64'], Timeout: 60 },
    },
    Every5: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        ScheduleExpression: 'rate(5 minutes)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: arn('Fn') },
      },
    },
    OnDemand: { Type: 'AWS::Lambda::Function', Properties: {} },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Task","Resource":"',
              ref('X'),
              '","Next":"C"},"C":{"Type":"Succeed"}}}',
            ],
          ],
        },
      },
    },
    Weekly: {
      Type: 'AWS::Events::Rule',
      Properties: { ScheduleExpression: 'cron(0 2 ? * SUN *)', Targets: [{ Id: 't', Arn: ref('Machine') }] },
    },
  });

  it('prices a Lambda every 5 minutes at the stated baseline: invocations x 5 s x memory', () => {
    const line = e.fixed.find((i) => i.resource === 'Fn');
    expect(line?.quantity).toBeCloseTo(8760, 6);
    expect(line?.monthlyUsd).toBeCloseTo(8760 * (0.2 / 1e6 + 5 * 0.25 * P.lambda.gbSecond.arm64), 8);
    expect(line?.assumption).toContain('5 s per invocation');
    expect(monthly(e, 'Every5')).toBeCloseTo(8760 / 1e6, 8);
  });

  it('prices the GetMetricData of a scheduled Lambda whose construct records its metrics per invocation', () => {
    const withMetrics = estimate({
      Guard: {
        Type: 'AWS::Lambda::Function',
        Properties: { MemorySize: 256, Architectures: ['arm64'], Timeout: 120 },
        Metadata: { [GET_METRIC_DATA_METRICS_METADATA]: 33 },
      },
      Every15: {
        Type: 'AWS::Scheduler::Schedule',
        Properties: { ScheduleExpression: 'rate(15 minutes)', Target: { Arn: arn('Guard') } },
      },
    });
    const line = withMetrics.fixed.find((i) => i.unit === 'metric requested');
    expect(line).toMatchObject({ resource: 'Guard', quantity: 2920 * 33, unitPriceUsd: 0.00001 });
    expect(line?.monthlyUsd).toBeCloseTo(0.9636, 6);
    // Without the record (or unscheduled) there is no such line.
    expect(e.fixed.some((i) => i.unit === 'metric requested')).toBe(false);
  });

  it('leaves an unscheduled Lambda to usage', () => {
    expect(monthly(e, 'OnDemand')).toBe(0);
    expect(e.usage.find((u) => u.resource === 'OnDemand')?.unitPrices[1]?.usd).toBe(P.lambda.gbSecond.x86_64);
  });

  it('prices a weekly state machine per transition of one pass through its states', () => {
    const line = e.fixed.find((i) => i.resource === 'Machine');
    expect(line?.quantity).toBeCloseTo(3 * (730 / 24 / 7), 6);
    expect(line?.unitPriceUsd).toBe(0.000025);
  });

  it.each([
    ['rate(5 minutes)', 8760],
    ['rate(1 hour)', 730],
    ['cron(0 9 * * ? *)', 730 / 24],
    ['cron(0 2 ? * SUN *)', 730 / 24 / 7],
    ['cron(0 4 ? * SUN#1 *)', 1],
    ['cron(0/15 * ? * MON-FRI *)', 4 * 24 * 5 * (730 / 24 / 7)],
    ['cron(0 2 */3 * ? *)', 11 * (730 / 24 / 31)],
  ])('counts %s as %d occurrences a month', (expression, expected) => {
    expect(monthlyOccurrences(expression)).toBeCloseTo(expected, 6);
  });

  it('does not guess at an expression it does not understand', () => {
    expect(monthlyOccurrences('cron(0 2 ? JAN-MAR MON *)')).toBeUndefined();
    const e2 = estimate({
      S: { Type: 'AWS::Scheduler::Schedule', Properties: { ScheduleExpression: 'every day' } },
    });
    expect(e2.unpriced.map((u) => u.resource)).toEqual(['S']);
  });
});

describe('unknown types, free types and regions', () => {
  it('reports an unknown type as UNPRICED and keeps it out of the total (never zero)', () => {
    const e = estimate({
      Waf: { Type: 'AWS::WAFv2::WebACL', Properties: {} },
      Key: { Type: 'AWS::KMS::Key', Properties: {} },
    });
    expect(e.unpriced).toEqual([
      expect.objectContaining({
        resource: 'Waf',
        type: 'AWS::WAFv2::WebACL',
        reason: expect.stringMatching(/not in the price table/),
      }),
    ]);
    expect(e.fixed.map((i) => i.resource)).toEqual(['Key']);
    expect(e.free).toEqual([]);
  });

  it('lists IAM, security groups, log groups and custom resources as free or usage, never fixed', () => {
    const e = estimate({
      Role: { Type: 'AWS::IAM::Role', Properties: {} },
      Sg: { Type: 'AWS::EC2::SecurityGroup', Properties: {} },
      Param: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 7 } },
      Seed: { Type: 'Custom::AWS', Properties: {} },
    });
    expect(e.fixed).toEqual([]);
    expect(e.free.map((f) => f.resource)).toEqual(['Role', 'Sg', 'Param', 'Seed']);
    expect(e.usage.map((u) => u.resource)).toEqual(['Logs']);
  });

  it('falls back to us-east-1 prices with a WARNING for a region without a table', () => {
    const resources = { Nat: { Type: 'AWS::EC2::NatGateway', Properties: {} } };
    const e = estimate(resources, 'eu-west-1');
    expect(e.warnings).toEqual([expect.stringMatching(/^WARNING: no price table for region 'eu-west-1'/)]);
    expect(e.priceTable.region).toBe('us-east-1');
    expect(e.monthlyFixedUsd).toBe(estimate(resources).monthlyFixedUsd);
    expect(estimate(resources).warnings).toEqual([]);
  });

  it('rejects a template without resource types', () => {
    expect(() => estimateTemplate({ Resources: { X: {} } }, { region: 'us-east-1' })).toThrow(
      /X has no Type/,
    );
    expect(() => estimateTemplate('nope', { region: 'us-east-1' })).toThrow(/not a JSON object/);
  });
});
