/** Hourly on-demand prices of one instance or node size. */
export interface InstancePrice {
  /** USD per hour, Single-AZ (RDS) or per node (ElastiCache). */
  readonly hourly: number;
  /** USD per hour of a Multi-AZ deployment (RDS: primary and standby). */
  readonly multiAzHourly?: number;
  /** vCPUs of the size; RDS Proxy bills per vCPU of its target instance. */
  readonly vcpu?: number;
}

/**
 * A dated, versioned table of list prices of one region, in USD. Every figure the estimator
 * multiplies comes from here, so a reviewer can check each one against the AWS price pages.
 */
export interface PriceTable {
  /** Bumped whenever a figure changes, so estimates name the prices they used. */
  readonly version: string;
  readonly currency: 'USD';
  readonly region: string;
  /** When the table was written. */
  readonly date: string;
  /** Where the figures come from, and how far to trust them. */
  readonly source: string;
  /** Hours in a billing month as AWS's own calculators count them. */
  readonly hoursPerMonth: number;
  readonly fargate: {
    readonly x86_64: { readonly vcpuHour: number; readonly gbHour: number };
    readonly arm64: { readonly vcpuHour: number; readonly gbHour: number };
    /** Per GB-hour of ephemeral storage beyond the free 20 GB. */
    readonly ephemeralStorageGbHour: number;
  };
  readonly loadBalancer: {
    readonly albHour: number;
    readonly lcuHour: number;
    readonly nlbHour: number;
    readonly nlcuHour: number;
  };
  /** Per public IPv4 address-hour, in use or idle (charged since February 2024). */
  readonly publicIpv4Hour: number;
  readonly natGateway: { readonly hour: number; readonly gbProcessed: number };
  /** EC2 on-demand Linux instance-hours (NAT instances), by instance type. */
  readonly ec2: Readonly<Record<string, number>>;
  /** EBS gp3 per GB-month (instance root volumes). */
  readonly ebsGp3GbMonth: number;
  readonly vpcEndpoint: { readonly interfaceAzHour: number; readonly gbProcessed: number };
  readonly dataTransferOutGb: number;
  readonly rds: {
    /** PostgreSQL instance classes (db.*). Other engines are not in the table. */
    readonly postgres: Readonly<Record<string, InstancePrice>>;
    /** Per GB-month of allocated storage, Single-AZ; Multi-AZ pays it twice. */
    readonly storageGbMonth: Readonly<Record<'gp2' | 'gp3' | 'io1' | 'standard', number>>;
    readonly io1IopsMonth: number;
    readonly backupGbMonth: number;
    /** Surplus CPU credits of burstable classes (unlimited mode). */
    readonly cpuCreditVcpuHour: number;
  };
  readonly rdsProxy: { readonly vcpuHour: number; readonly minVcpu: number };
  readonly elasticache: {
    /** Node prices by engine; Valkey nodes list 20% below Redis OSS. */
    readonly nodes: Readonly<Record<string, { readonly redis: number; readonly valkey: number }>>;
    readonly backupGbMonth: number;
  };
  readonly kms: { readonly keyMonth: number; readonly per10kRequests: number };
  readonly secretsManager: { readonly secretMonth: number; readonly per10kCalls: number };
  readonly cloudWatch: {
    readonly dashboardMonth: number;
    readonly alarmStandardMetric: number;
    readonly alarmHighResolutionMetric: number;
    readonly alarmComposite: number;
    readonly customMetricMonth: number;
    readonly logsIngestGb: number;
    readonly logsStorageGbMonth: number;
    /** Vended logs such as VPC flow logs delivered to CloudWatch Logs (first 10 TB tier). */
    readonly vendedLogsIngestGb: number;
    /** Vended logs delivered to S3. */
    readonly vendedLogsS3Gb: number;
    /** GetMetricData, per 1,000 metrics requested. */
    readonly getMetricDataPer1kMetrics: number;
  };
  readonly lambda: {
    readonly perMillionRequests: number;
    readonly gbSecond: { readonly x86_64: number; readonly arm64: number };
  };
  readonly stepFunctions: {
    readonly standardPer1kTransitions: number;
    readonly expressPerMillionRequests: number;
  };
  readonly scheduler: { readonly perMillionInvocations: number; readonly freeInvocationsPerMonth: number };
  readonly eventBridge: { readonly customEventsPerMillion: number };
  readonly s3: { readonly standardGbMonth: number; readonly per1kPut: number; readonly per1kGet: number };
  readonly dynamodb: {
    readonly onDemandPerMillionWrites: number;
    readonly onDemandPerMillionReads: number;
    readonly storageGbMonth: number;
    readonly pitrGbMonth: number;
    readonly provisionedWcuHour: number;
    readonly provisionedRcuHour: number;
  };
  readonly sqs: { readonly perMillionRequests: number };
  readonly sns: { readonly perMillionPublishes: number; readonly emailPer100k: number };
  readonly ecr: { readonly storageGbMonth: number };
  readonly route53: { readonly hostedZoneMonth: number; readonly perMillionQueries: number };
  readonly ssm: { readonly advancedParameterMonth: number };
}
