import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';
import { appSettingsEnvironment, type EnvironmentConfig } from '../config';
import { BlueGreenService } from '../constructs/blue-green-service';
import { LiveTrafficWeights } from '../constructs/traffic-weights';
import { envScopedName, SYSTEM_NAME } from '../naming';

/** Properties of {@link ServiceStack}. */
export interface ServiceStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: ec2.IVpc;
  readonly repository: ecr.IRepository;
  /** SSM parameter with the live weights, kept by the stateful stack. */
  readonly trafficWeightsParameterName: string;
}

/**
 * The stateless tier of an environment: cluster, blue and green services and the ALB
 * (batch, observability and automation join later). Safe to destroy and recreate.
 */
export class ServiceStack extends Stack {
  public readonly service: BlueGreenService;
  public readonly weights: LiveTrafficWeights;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config } = props;
    const name = (base: string) => envScopedName(config.envName, base);
    const colourNames = (colour: 'blue' | 'green') => ({
      service: name(`${SYSTEM_NAME}-${colour}-service`),
      logGroup: `/ecs/${name(`${SYSTEM_NAME}-${colour}`)}`,
      family: name(`${SYSTEM_NAME}-${colour}`),
    });

    this.weights = new LiveTrafficWeights(this, 'TrafficWeights', {
      parameterName: props.trafficWeightsParameterName,
    });

    this.service = new BlueGreenService(this, 'Service', {
      config,
      vpc: props.vpc,
      repository: props.repository,
      blueWeight: this.weights.blueWeight,
      greenWeight: this.weights.greenWeight,
      names: {
        cluster: name(`${SYSTEM_NAME}-cluster`),
        blue: colourNames('blue'),
        green: colourNames('green'),
      },
      environment: appSettingsEnvironment(config.envName, config.app),
    });

    // CloudFormation output ids are alphanumeric only, so the runbook's terraform outputs
    // blue_weight / green_weight are BlueWeight / GreenWeight here.
    new CfnOutput(this, 'BlueWeight', {
      value: String(this.weights.blueWeight),
      description: 'blue_weight: listener weight of blue as of the last deploy (live value: SSM parameter)',
    });
    new CfnOutput(this, 'GreenWeight', {
      value: String(this.weights.greenWeight),
      description: 'green_weight: listener weight of green as of the last deploy (live value: SSM parameter)',
    });
    new CfnOutput(this, 'LoadBalancerDnsName', { value: this.service.loadBalancer.loadBalancerDnsName });
    new CfnOutput(this, 'ClusterName', { value: this.service.cluster.clusterName });
    new CfnOutput(this, 'TrafficWeightsParameterName', { value: props.trafficWeightsParameterName });
  }
}
