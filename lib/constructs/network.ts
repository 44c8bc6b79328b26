import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Properties of {@link Network}. */
export interface NetworkProps {
  /** Availability zones to spread subnets over (2 or 3). */
  readonly maxAzs: number;
  /** NAT gateways; fewer than maxAzs saves money at the price of zonal egress resilience. */
  readonly natGateways: number;
  /** Days to keep VPC flow logs. */
  readonly flowLogRetentionDays: number;
  /**
   * How private subnets reach the internet.
   * @default 'gateway'
   */
  readonly natProvider?: 'gateway' | 'instance';
  /** What happens to the flow log group when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * CIDR block of the VPC.
   * @default '10.40.0.0/16'
   */
  readonly cidr?: string;
}

/**
 * The VPC of an environment: public subnets for the ALB and NAT, private subnets with
 * egress for tasks and Lambdas, isolated subnets for the database and cache. All traffic
 * is recorded by flow logs.
 */
export class Network extends Construct {
  /** Subnet group names, for other constructs to select by. */
  static readonly SUBNETS = { public: 'public', app: 'app', data: 'data' } as const;

  public readonly vpc: ec2.Vpc;
  public readonly flowLogGroup: logs.LogGroup;
  /** The NAT instance provider, when `natProvider` is 'instance'. */
  public readonly natInstances?: ec2.NatInstanceProviderV2;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    if (props.natProvider === 'instance') {
      this.natInstances = ec2.NatProvider.instanceV2({
        instanceType: new ec2.InstanceType('t4g.nano'),
        machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
        defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
        associatePublicIpAddress: true,
      });
    }
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      natGatewayProvider: this.natInstances,
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.40.0.0/16'),
      maxAzs: props.maxAzs,
      natGateways: props.natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: Network.SUBNETS.public, subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: Network.SUBNETS.app, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: Network.SUBNETS.data, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // S3 gateway endpoints are free and keep ECR layer pulls off the NAT gateways.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });

    if (this.natInstances) {
      // Only the VPC's own hosts may route through the instance.
      this.natInstances.securityGroup.addIngressRule(
        ec2.Peer.ipv4(this.vpc.vpcCidrBlock),
        ec2.Port.allTraffic(),
        'NAT for the private subnets',
      );
      const securityGroup = this.vpc.node.tryFindChild('NatSecurityGroup');
      if (securityGroup) {
        Validations.of(securityGroup).acknowledge({
          id: 'AwsSolutions-EC23',
          reason:
            'The NAT instance admits traffic from the VPC CIDR only (cdk-nag cannot read the CIDR token).',
        });
      }
      const instanceReasons: Record<string, string> = {
        'AwsSolutions-EC26':
          'The NAT instance root volume holds only the AMI: NAT keeps no state and no data on disk.',
        'AwsSolutions-EC28':
          'The NAT instance of a non-production environment: basic monitoring is enough, detailed costs extra.',
        'AwsSolutions-EC29':
          'The NAT instance is replaceable cattle of a dev VPC; termination protection would block teardown.',
      };
      for (const subnet of this.vpc.publicSubnets) {
        const instance = subnet.node.tryFindChild('NatInstance');
        if (!instance) continue;
        for (const [id, reason] of Object.entries(instanceReasons))
          Validations.of(instance).acknowledge({ id, reason });
      }
    }

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }
}
