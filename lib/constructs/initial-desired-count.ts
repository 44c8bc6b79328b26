import { Stack, Validations } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { INITIAL_DESIRED_COUNT_METADATA } from '../naming';
import { nagManagedPolicy } from './nag';

/** Properties of {@link InitialDesiredCount}. */
export interface InitialDesiredCountProps {
  /** The service whose task count is live state. */
  readonly service: ecs.FargateService;
  /** Tasks to run when the service is created (config's `desiredCount`). */
  readonly count: number;
}

/**
 * Makes a service's task count live state, like the traffic weights: the template carries no
 * `DesiredCount`, so `cdk deploy` never resets a scale-out, a remediation step or a shift
 * (CloudFormation keeps the current count when the property is absent on update). ECS starts
 * a new service with one task; this sets config's count once, on the service's creation,
 * and never again (no onUpdate, no onDelete).
 */
export class InitialDesiredCount extends Construct {
  /** The custom resource that sets the count on the first deploy. */
  public readonly seed: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: InitialDesiredCountProps) {
    super(scope, id);
    const { service } = props;
    const cfnService = service.node.defaultChild as ecs.CfnService;
    cfnService.addPropertyDeletionOverride('DesiredCount');
    cfnService.cfnOptions.metadata = {
      ...cfnService.cfnOptions.metadata,
      [INITIAL_DESIRED_COUNT_METADATA]: props.count,
    };

    this.seed = new cr.AwsCustomResource(this, 'Seed', {
      installLatestAwsSdk: false,
      onCreate: {
        service: 'ECS',
        action: 'updateService',
        parameters: {
          cluster: service.cluster.clusterName,
          service: service.serviceName,
          desiredCount: props.count,
        },
        physicalResourceId: cr.PhysicalResourceId.of(`${service.serviceName}-initial-desired-count`),
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [service.serviceArn] }),
    });
    this.seed.node.addDependency(service);
    acknowledgeCustomResourceProvider(this);
  }
}

/**
 * AwsCustomResource runs one provider function per stack with CDK's own role; cdk-nag flags
 * its managed basic execution policy, which is acknowledged once here for every user.
 */
export function acknowledgeCustomResourceProvider(scope: Construct): void {
  const provider = Stack.of(scope).node.tryFindChild(
    `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
  );
  if (!provider) return;
  Validations.of(provider).acknowledge({
    id: nagManagedPolicy('AWSLambdaBasicExecutionRole'),
    reason:
      "CDK's AwsCustomResource provider: the managed basic execution role only lets it write its own logs; " +
      'its other permissions are inline policies scoped to the resources it seeds.',
  });
}
