import type { Pricer } from '../context';
import { isRecord } from '../template';

/** Load balancer hours, and one public IPv4 address per zone of an internet-facing one. */
export const priceLoadBalancer: Pricer = (ctx, id, resource) => {
  const p = resource.Properties ?? {};
  const type = resource.Type;
  const kind = typeof p.Type === 'string' ? p.Type : 'application';
  const lb = ctx.prices.loadBalancer;
  let hourly: number;
  let capacityUnit: { usd: number; per: string };
  if (kind === 'application') {
    hourly = lb.albHour;
    capacityUnit = { usd: lb.lcuHour, per: 'LCU-hour' };
  } else if (kind === 'network') {
    hourly = lb.nlbHour;
    capacityUnit = { usd: lb.nlcuHour, per: 'NLCU-hour' };
  } else {
    ctx.addUnpriced(id, type, `load balancer type ${kind} is not in the price table`);
    return;
  }
  ctx.addFixed({
    resource: id,
    type,
    description: `${kind} load balancer`,
    quantity: ctx.hours,
    unit: 'LB-hour',
    unitPriceUsd: hourly,
  });
  // CloudFormation's default scheme is internet-facing.
  if (p.Scheme !== 'internal') {
    const zones = Array.isArray(p.Subnets)
      ? p.Subnets.length
      : Array.isArray(p.SubnetMappings)
        ? p.SubnetMappings.length
        : undefined;
    if (zones === undefined) {
      ctx.addUnpriced(
        id,
        type,
        'internet-facing, but its subnets are not a literal list: public IPv4 count unknown',
      );
    } else {
      ctx.addFixed({
        resource: id,
        type,
        description: `public IPv4 addresses, ${zones} zone${zones === 1 ? '' : 's'}`,
        quantity: zones * ctx.hours,
        unit: 'IPv4 address-hour',
        unitPriceUsd: ctx.prices.publicIpv4Hour,
        assumption: 'one address per zone at minimum; the load balancer adds nodes (addresses) as it scales',
      });
    }
  }
  ctx.addUsage(id, type, 'capacity units (connections, requests, bytes) and data transfer out', [
    capacityUnit,
    { usd: ctx.prices.dataTransferOutGb, per: 'GB out to the internet' },
  ]);
};

export const priceNatGateway: Pricer = (ctx, id, resource) => {
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: 'NAT gateway',
    quantity: ctx.hours,
    unit: 'NAT gateway-hour',
    unitPriceUsd: ctx.prices.natGateway.hour,
  });
  ctx.addUsage(id, resource.Type, 'data processed', [
    { usd: ctx.prices.natGateway.gbProcessed, per: 'GB processed' },
  ]);
};

/**
 * An EC2 instance (here: a NAT instance): instance-hours, its public IPv4 address when it
 * has one, and its gp3 root volume (8 GB unless the template says otherwise).
 */
export const priceEc2Instance: Pricer = (ctx, id, resource) => {
  const p = resource.Properties ?? {};
  const instanceType = typeof p.InstanceType === 'string' ? p.InstanceType : '';
  const hourly = ctx.prices.ec2[instanceType];
  if (hourly === undefined) {
    ctx.addUnpriced(
      id,
      resource.Type,
      `instance type ${instanceType || '(unknown)'} is not in the price table`,
    );
    return;
  }
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: `${instanceType} instance (Linux, on demand)`,
    quantity: ctx.hours,
    unit: 'instance-hour',
    unitPriceUsd: hourly,
  });
  const interfaces = Array.isArray(p.NetworkInterfaces) ? p.NetworkInterfaces : [];
  if (interfaces.some((n: { AssociatePublicIpAddress?: unknown }) => n?.AssociatePublicIpAddress === true)) {
    ctx.addFixed({
      resource: id,
      type: resource.Type,
      description: 'public IPv4 address',
      quantity: ctx.hours,
      unit: 'IPv4 address-hour',
      unitPriceUsd: ctx.prices.publicIpv4Hour,
    });
  }
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: 'gp3 root volume',
    quantity: 8,
    unit: 'GB-month',
    unitPriceUsd: ctx.prices.ebsGp3GbMonth,
    assumption: 'the AMI default root volume of 8 GB',
  });
};

/** Public IPv4 addresses bill by the hour whether attached or not. */
export const priceElasticIp: Pricer = (ctx, id, resource) => {
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: 'Elastic IP (public IPv4 address)',
    quantity: ctx.hours,
    unit: 'IPv4 address-hour',
    unitPriceUsd: ctx.prices.publicIpv4Hour,
  });
};

/** Interface endpoints bill per zone-hour; gateway endpoints (S3, DynamoDB) are free. */
export const priceVpcEndpoint: Pricer = (ctx, id, resource) => {
  const p = resource.Properties ?? {};
  const type = resource.Type;
  const kind = typeof p.VpcEndpointType === 'string' ? p.VpcEndpointType : 'Gateway';
  if (kind === 'Gateway') {
    ctx.addFree(id, type, 'gateway endpoint (S3/DynamoDB): no hourly or data charge');
    return;
  }
  if (kind !== 'Interface') {
    ctx.addUnpriced(id, type, `endpoint type ${kind} is not in the price table`);
    return;
  }
  if (!Array.isArray(p.SubnetIds)) {
    ctx.addUnpriced(id, type, 'interface endpoint without a literal SubnetIds list: zone count unknown');
    return;
  }
  const zones = p.SubnetIds.length;
  ctx.addFixed({
    resource: id,
    type,
    description: `interface endpoint ${serviceLabel(p.ServiceName)}, ${zones} zone${zones === 1 ? '' : 's'}`,
    quantity: zones * ctx.hours,
    unit: 'endpoint AZ-hour',
    unitPriceUsd: ctx.prices.vpcEndpoint.interfaceAzHour,
  });
  ctx.addUsage(id, type, 'data processed', [
    { usd: ctx.prices.vpcEndpoint.gbProcessed, per: 'GB processed' },
  ]);
};

function serviceLabel(serviceName: unknown): string {
  if (typeof serviceName === 'string') return serviceName.split('.').pop() ?? serviceName;
  if (isRecord(serviceName) && Array.isArray(serviceName['Fn::Join'])) {
    const parts = serviceName['Fn::Join'][1];
    const last = Array.isArray(parts) ? parts[parts.length - 1] : undefined;
    if (typeof last === 'string') return last.replace(/^\./, '');
  }
  return '(service)';
}

/** Flow logs bill as vended log ingestion at their destination. */
export const priceFlowLog: Pricer = (ctx, id, resource) => {
  const destination = resource.Properties?.LogDestinationType ?? 'cloud-watch-logs';
  const price =
    destination === 's3'
      ? { usd: ctx.prices.cloudWatch.vendedLogsS3Gb, per: 'GB delivered to S3' }
      : { usd: ctx.prices.cloudWatch.vendedLogsIngestGb, per: 'GB ingested to CloudWatch Logs' };
  ctx.addUsage(id, resource.Type, 'flow log records (depends on traffic)', [price]);
};
