import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { ImageRepository } from '../constructs/image-repository';
import { Network } from '../constructs/network';
import { TrafficWeightsStore } from '../constructs/traffic-weights';
import { trafficWeightsParameterName } from '../naming';

/** Properties of {@link StatefulStack}. */
export interface StatefulStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * What an environment keeps across deploys: the network, the image repository and the live
 * traffic weights (the data tier joins later). Changed rarely, deployed first.
 * Construct ids here are pinned: renaming one replaces a stateful resource.
 */
export class StatefulStack extends Stack {
  public readonly network: Network;
  public readonly vpc: ec2.Vpc;
  public readonly repository: ecr.Repository;
  public readonly trafficWeights: TrafficWeightsStore;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.network = new Network(this, 'Network', {
      maxAzs: config.network.maxAzs,
      natGateways: config.network.natGateways,
      flowLogRetentionDays: config.network.flowLogRetentionDays,
      removalPolicy: config.protection.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.vpc = this.network.vpc;

    this.repository = new ImageRepository(this, 'ImageRepository', {
      repositoryName: config.service.imageRepositoryName,
    }).repository;

    this.trafficWeights = new TrafficWeightsStore(this, 'TrafficWeights', {
      parameterName: trafficWeightsParameterName(config.envName),
      initialBlueWeight: config.traffic.blueWeight,
      initialGreenWeight: config.traffic.greenWeight,
    });
  }
}
