import type { Pricer, PricingContext } from '../context';
import { asNumber, asString, type CfnResource, isRecord, referencedId } from '../template';

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

/** Instance hours (Multi-AZ at its own rate) and allocated storage (twice for Multi-AZ). */
export const priceDbInstance: Pricer = (ctx, id, resource) => {
  const p = resource.Properties ?? {};
  const type = resource.Type;
  const engine = asString(p.Engine) ?? '';
  if (engine.startsWith('aurora') || p.DBClusterIdentifier !== undefined) {
    ctx.addUnpriced(id, type, 'Aurora instance: Aurora prices are not in the price table');
    return;
  }
  if (engine !== 'postgres') {
    ctx.addUnpriced(id, type, `engine '${engine || '(none)'}': only PostgreSQL prices are in the table`);
    return;
  }
  const instanceClass = asString(p.DBInstanceClass) ?? '';
  const price = ctx.prices.rds.postgres[instanceClass];
  if (!price) {
    ctx.addUnpriced(
      id,
      type,
      `instance class '${instanceClass || JSON.stringify(p.DBInstanceClass)}' is not in the price table`,
    );
    return;
  }
  const multiAz = isTrue(p.MultiAZ);
  const hourly = multiAz ? price.multiAzHourly : price.hourly;
  if (hourly === undefined) {
    ctx.addUnpriced(id, type, `no Multi-AZ price for ${instanceClass}`);
    return;
  }
  ctx.addFixed({
    resource: id,
    type,
    description: `${instanceClass} PostgreSQL ${multiAz ? 'Multi-AZ (primary + standby)' : 'Single-AZ'}`,
    quantity: ctx.hours,
    unit: 'instance-hour',
    unitPriceUsd: hourly,
  });
  const storageType = (asString(p.StorageType) ?? 'gp2') as keyof typeof ctx.prices.rds.storageGbMonth;
  const storagePrice = ctx.prices.rds.storageGbMonth[storageType];
  const allocated = asNumber(p.AllocatedStorage);
  const copies = multiAz ? 2 : 1;
  if (storagePrice === undefined || allocated === undefined) {
    ctx.addUnpriced(
      id,
      type,
      `storage ${String(p.StorageType)} of ${JSON.stringify(p.AllocatedStorage)} GB not priced`,
    );
  } else {
    ctx.addFixed({
      resource: id,
      type,
      description: `${allocated} GB ${storageType} storage${multiAz ? ' x 2 (Multi-AZ)' : ''}`,
      quantity: allocated * copies,
      unit: 'GB-month',
      unitPriceUsd: storagePrice,
    });
  }
  const iops = asNumber(p.Iops);
  if (storageType === 'io1' && iops !== undefined) {
    ctx.addFixed({
      resource: id,
      type,
      description: `${iops} provisioned IOPS${multiAz ? ' x 2 (Multi-AZ)' : ''}`,
      quantity: iops * copies,
      unit: 'IOPS-month',
      unitPriceUsd: ctx.prices.rds.io1IopsMonth,
    });
  } else if (storageType === 'gp3' && (p.Iops !== undefined || p.StorageThroughput !== undefined)) {
    ctx.addUnpriced(
      id,
      type,
      'gp3 IOPS/throughput set explicitly: charges above the baseline are not in the table',
    );
  }
  if ((asNumber(p.PerformanceInsightsRetentionPeriod) ?? 7) > 7 && isTrue(p.EnablePerformanceInsights)) {
    ctx.addUnpriced(id, type, 'Performance Insights retention beyond the free 7 days is not in the table');
  }
  const usage = [
    { usd: ctx.prices.rds.backupGbMonth, per: 'GB-month of backups beyond the database size' },
    {
      usd: storagePrice ?? 0,
      per: `GB-month of storage growth (autoscaling up to ${p.MaxAllocatedStorage ?? allocated} GB)`,
    },
  ];
  if (instanceClass.startsWith('db.t')) {
    usage.push({
      usd: ctx.prices.rds.cpuCreditVcpuHour,
      per: 'vCPU-hour of surplus CPU credits (burstable class)',
    });
  }
  if ((asNumber(p.MonitoringInterval) ?? 0) > 0 || Array.isArray(p.EnableCloudwatchLogsExports)) {
    usage.push({
      usd: ctx.prices.cloudWatch.logsIngestGb,
      per: 'GB of enhanced monitoring / exported logs ingested',
    });
  }
  ctx.addUsage(id, type, 'backups, storage growth, CPU credits, monitoring logs', usage);
};

function instanceVcpus(ctx: PricingContext, instanceId: string | undefined): number | undefined {
  const instance = instanceId === undefined ? undefined : ctx.resources.get(instanceId);
  if (instance?.Type !== 'AWS::RDS::DBInstance') return undefined;
  const instanceClass = asString(instance.Properties?.DBInstanceClass) ?? '';
  return ctx.prices.rds.postgres[instanceClass]?.vcpu;
}

/** RDS Proxy bills per vCPU of the instances it fronts, at least the table's minimum. */
export const priceDbProxy: Pricer = (ctx, id, resource) => {
  const targetGroups = [...ctx.resources.values()].filter(
    (r) => r.Type === 'AWS::RDS::DBProxyTargetGroup' && referencedId(r.Properties?.DBProxyName) === id,
  );
  const instanceIds = targetGroups.flatMap((tg) =>
    Array.isArray(tg.Properties?.DBInstanceIdentifiers) ? tg.Properties.DBInstanceIdentifiers : [],
  );
  const vcpus = instanceIds.map((ref) => instanceVcpus(ctx, referencedId(ref)));
  if (vcpus.length === 0 || vcpus.some((v) => v === undefined)) {
    ctx.addUnpriced(
      id,
      resource.Type,
      'its target instances are not priced instances of this template (vCPU count unknown)',
    );
    return;
  }
  const total = vcpus.reduce<number>((sum, v) => sum + (v ?? 0), 0);
  const billed = Math.max(total, ctx.prices.rdsProxy.minVcpu);
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: `${billed} vCPU of the target instance${billed > total ? ` (minimum ${ctx.prices.rdsProxy.minVcpu})` : ''}`,
    quantity: billed * ctx.hours,
    unit: 'vCPU-hour',
    unitPriceUsd: ctx.prices.rdsProxy.vcpuHour,
    assumption: "billed on the primary instance's vCPUs; a Multi-AZ standby is not counted",
  });
};

function nodePrice(
  ctx: PricingContext,
  p: Record<string, unknown>,
): { price: number; label: string } | string {
  const nodeType = asString(p.CacheNodeType) ?? '';
  const prices = ctx.prices.elasticache.nodes[nodeType];
  if (!prices) return `node type '${nodeType || JSON.stringify(p.CacheNodeType)}' is not in the price table`;
  const engine = (asString(p.Engine) ?? 'redis').toLowerCase();
  const valkey = engine === 'valkey';
  return { price: valkey ? prices.valkey : prices.redis, label: `${nodeType} ${valkey ? 'Valkey' : engine}` };
}

function replicationGroupNodes(
  p: Record<string, unknown>,
): { nodes: number; assumption?: string } | undefined {
  if (p.NumCacheClusters !== undefined) {
    const n = asNumber(p.NumCacheClusters);
    return n === undefined ? undefined : { nodes: n };
  }
  if (Array.isArray(p.NodeGroupConfiguration)) {
    return {
      nodes: p.NodeGroupConfiguration.reduce<number>(
        (sum, g) => sum + 1 + (isRecord(g) ? (asNumber(g.ReplicaCount) ?? 0) : 0),
        0,
      ),
    };
  }
  if (p.NumNodeGroups !== undefined || p.ReplicasPerNodeGroup !== undefined) {
    const groups = asNumber(p.NumNodeGroups ?? 1);
    const replicas = asNumber(p.ReplicasPerNodeGroup ?? 0);
    return groups === undefined || replicas === undefined ? undefined : { nodes: groups * (replicas + 1) };
  }
  return { nodes: 1, assumption: 'no node count declared: one node' };
}

/** Every node of a replication group (primary and replicas) bills the node-hour price. */
export const priceReplicationGroup: Pricer = (ctx, id, resource) => {
  const p = resource.Properties ?? {};
  addNodesOrUnpriced(ctx, id, resource, replicationGroupNodes(p), 'node count is not a literal number');
};

export const priceCacheCluster: Pricer = (ctx, id, resource) => {
  const nodes = asNumber(resource.Properties?.NumCacheNodes ?? 1);
  addNodesOrUnpriced(
    ctx,
    id,
    resource,
    nodes === undefined ? undefined : { nodes },
    'NumCacheNodes is not a literal number',
  );
};

/** {@link addNodes}, or the resource as unpriced when its node type's price or its count is unknown. */
function addNodesOrUnpriced(
  ctx: PricingContext,
  id: string,
  resource: CfnResource,
  count: { nodes: number; assumption?: string } | undefined,
  unknownCount: string,
): void {
  const price = nodePrice(ctx, resource.Properties ?? {});
  if (typeof price === 'string' || count === undefined) {
    ctx.addUnpriced(id, resource.Type, typeof price === 'string' ? price : unknownCount);
    return;
  }
  addNodes(ctx, id, resource, price, count.nodes, count.assumption);
}

function addNodes(
  ctx: PricingContext,
  id: string,
  resource: CfnResource,
  price: { price: number; label: string },
  nodes: number,
  assumption?: string,
): void {
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: `${nodes} x ${price.label} node${nodes === 1 ? '' : 's'}`,
    quantity: nodes * ctx.hours,
    unit: 'node-hour',
    unitPriceUsd: price.price,
    ...(assumption ? { assumption } : {}),
  });
  ctx.addUsage(id, resource.Type, 'snapshots beyond the free one, cross-zone traffic', [
    { usd: ctx.prices.elasticache.backupGbMonth, per: 'GB-month of backup storage' },
  ]);
}

export const priceKmsKey: Pricer = (ctx, id, resource) => {
  const rotation = isTrue(resource.Properties?.EnableKeyRotation);
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: `customer managed key${rotation ? ' (rotation on)' : ''}`,
    quantity: 1,
    unit: 'key-month',
    unitPriceUsd: ctx.prices.kms.keyMonth,
    ...(rotation
      ? { assumption: 'first year; each of the first two yearly rotations adds one key-month per month' }
      : {}),
  });
  ctx.addUsage(id, resource.Type, 'API requests', [
    { usd: ctx.prices.kms.per10kRequests, per: '10,000 requests' },
  ]);
};

export const priceSecret: Pricer = (ctx, id, resource) => {
  const replicas = resource.Properties?.ReplicaRegions;
  const copies = 1 + (Array.isArray(replicas) ? replicas.length : 0);
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: copies > 1 ? `secret and ${copies - 1} replica(s)` : 'secret',
    quantity: copies,
    unit: 'secret-month',
    unitPriceUsd: ctx.prices.secretsManager.secretMonth,
  });
  ctx.addUsage(id, resource.Type, 'API calls', [
    { usd: ctx.prices.secretsManager.per10kCalls, per: '10,000 API calls' },
  ]);
};

/** On-demand tables bill only usage; provisioned capacity bills by the hour. */
export const priceDynamoDbTable: Pricer = (ctx, id, resource) => {
  const p = resource.Properties ?? {};
  const d = ctx.prices.dynamodb;
  const usage = [
    { usd: d.storageGbMonth, per: 'GB-month stored' },
    ...(isRecord(p.PointInTimeRecoverySpecification) &&
    isTrue(p.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled)
      ? [{ usd: d.pitrGbMonth, per: 'GB-month of point-in-time recovery' }]
      : []),
  ];
  if (p.BillingMode === 'PAY_PER_REQUEST') {
    ctx.addUsage(id, resource.Type, 'on-demand reads, writes and storage', [
      { usd: d.onDemandPerMillionWrites, per: 'million write request units' },
      { usd: d.onDemandPerMillionReads, per: 'million read request units' },
      ...usage,
    ]);
    return;
  }
  const capacities = [p.ProvisionedThroughput];
  if (Array.isArray(p.GlobalSecondaryIndexes)) {
    for (const index of p.GlobalSecondaryIndexes)
      if (isRecord(index)) capacities.push(index.ProvisionedThroughput);
  }
  let wcu = 0;
  let rcu = 0;
  for (const capacity of capacities) {
    const w = isRecord(capacity) ? asNumber(capacity.WriteCapacityUnits) : undefined;
    const r = isRecord(capacity) ? asNumber(capacity.ReadCapacityUnits) : undefined;
    if (w === undefined || r === undefined) {
      ctx.addUnpriced(id, resource.Type, 'provisioned capacity is not a literal number');
      return;
    }
    wcu += w;
    rcu += r;
  }
  for (const [units, unit, hourly] of [
    [wcu, 'WCU', d.provisionedWcuHour],
    [rcu, 'RCU', d.provisionedRcuHour],
  ] as const) {
    ctx.addFixed({
      resource: id,
      type: resource.Type,
      description: `${units} provisioned ${unit}`,
      quantity: units * ctx.hours,
      unit: `${unit}-hour`,
      unitPriceUsd: hourly,
    });
  }
  ctx.addUsage(id, resource.Type, 'storage', usage);
};

export const priceBucket: Pricer = (ctx, id, resource) => {
  ctx.addUsage(id, resource.Type, 'storage and requests', [
    { usd: ctx.prices.s3.standardGbMonth, per: 'GB-month (Standard)' },
    { usd: ctx.prices.s3.per1kPut, per: '1,000 PUT/LIST requests' },
    { usd: ctx.prices.s3.per1kGet, per: '1,000 GET requests' },
  ]);
};

export const priceQueue: Pricer = (ctx, id, resource) => {
  ctx.addUsage(id, resource.Type, 'requests', [
    { usd: ctx.prices.sqs.perMillionRequests, per: 'million requests' },
  ]);
};

export const priceTopic: Pricer = (ctx, id, resource) => {
  ctx.addUsage(id, resource.Type, 'publishes and deliveries', [
    { usd: ctx.prices.sns.perMillionPublishes, per: 'million publishes' },
    { usd: ctx.prices.sns.emailPer100k, per: '100,000 email deliveries' },
  ]);
};

export const priceRepository: Pricer = (ctx, id, resource) => {
  ctx.addUsage(id, resource.Type, 'image storage', [{ usd: ctx.prices.ecr.storageGbMonth, per: 'GB-month' }]);
};

export const priceHostedZone: Pricer = (ctx, id, resource) => {
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: 'hosted zone',
    quantity: 1,
    unit: 'zone-month',
    unitPriceUsd: ctx.prices.route53.hostedZoneMonth,
  });
  ctx.addUsage(id, resource.Type, 'queries', [
    { usd: ctx.prices.route53.perMillionQueries, per: 'million queries' },
  ]);
};

/** Standard parameters are free; advanced ones bill monthly. */
export const priceSsmParameter: Pricer = (ctx, id, resource) => {
  if (resource.Properties?.Tier === 'Advanced') {
    ctx.addFixed({
      resource: id,
      type: resource.Type,
      description: 'advanced parameter',
      quantity: 1,
      unit: 'parameter-month',
      unitPriceUsd: ctx.prices.ssm.advancedParameterMonth,
    });
    return;
  }
  ctx.addFree(id, resource.Type, 'standard parameter (standard throughput)');
};

export const priceLogGroup: Pricer = (ctx, id, resource) => {
  const retention = asNumber(resource.Properties?.RetentionInDays);
  ctx.addUsage(
    id,
    resource.Type,
    `log ingestion and storage (${retention === undefined ? 'kept forever' : `retention ${retention} days`})`,
    [
      { usd: ctx.prices.cloudWatch.logsIngestGb, per: 'GB ingested' },
      { usd: ctx.prices.cloudWatch.logsStorageGbMonth, per: 'GB-month stored' },
    ],
  );
};
