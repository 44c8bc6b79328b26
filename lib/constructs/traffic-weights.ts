import { CfnParameter, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** Properties of {@link TrafficWeightsStore}. */
export interface TrafficWeightsStoreProps {
  /** SSM parameter name, e.g. /fa-ai-system/prod/traffic/weights. */
  readonly parameterName: string;
  /** Blue weight written when the parameter does not exist yet (first deploy only). */
  readonly initialBlueWeight: number;
  /** Green weight written when the parameter does not exist yet (first deploy only). */
  readonly initialGreenWeight: number;
}

/**
 * The one source of truth of the listener weights: an SSM StringList "<blue>,<green>".
 *
 * CloudFormation resets listener weights it owns on every deploy (aws/aws-cdk#36649), so a
 * live rollback would be undone by the next `cdk deploy`. Instead the template reads the
 * weights from this parameter at deploy time, and the shifting automation writes the
 * parameter together with the listener. The parameter is created here only if it is
 * absent and is never overwritten by a deploy, so CloudFormation cannot reset it either.
 * One StringList (not two parameters) so that a reader never sees half a shift.
 */
export class TrafficWeightsStore extends Construct {
  public readonly parameterName: string;
  public readonly parameterArn: string;
  /** The custom resource that creates the parameter on first deploy. */
  public readonly seed: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: TrafficWeightsStoreProps) {
    super(scope, id);
    this.parameterName = props.parameterName;
    this.parameterArn = Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: props.parameterName.replace(/^\//, ''),
    });

    this.seed = new cr.AwsCustomResource(this, 'Seed', {
      installLatestAwsSdk: false,
      onCreate: {
        service: 'SSM',
        action: 'putParameter',
        parameters: {
          Name: props.parameterName,
          Type: 'StringList',
          Value: `${props.initialBlueWeight},${props.initialGreenWeight}`,
          Overwrite: false,
          Description: 'Live ALB weights blue,green. Written by traffic shifting; read by every deploy.',
        },
        physicalResourceId: cr.PhysicalResourceId.of(props.parameterName),
        // Already there means live weights exist: they win over config.
        ignoreErrorCodesMatching: 'ParameterAlreadyExists',
      },
      // No onUpdate and no onDelete: a deploy never rewrites live weights, and deleting the
      // stack leaves them for the next incarnation.
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.parameterArn] }),
    });

    // AwsCustomResource runs one provider function per stack; its role is CDK's own.
    const provider = Stack.of(this).node.tryFindChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's AwsCustomResource provider: the managed basic execution role only lets it write its own logs; " +
          'its SSM permission is the inline policy scoped to the weights parameter.',
      });
    }
  }
}

/** Properties of {@link LiveTrafficWeights}. */
export interface LiveTrafficWeightsProps {
  /** Name of the parameter kept by {@link TrafficWeightsStore}. */
  readonly parameterName: string;
}

/**
 * Reads the live weights at deploy time through an SSM-typed stack parameter, which
 * CloudFormation resolves afresh on every create and update.
 */
export class LiveTrafficWeights extends Construct {
  /** The stack parameter; its default is the SSM parameter name. */
  public readonly parameter: CfnParameter;
  /** Blue weight as resolved at deploy time (a token). */
  public readonly blueWeight: number;
  /** Green weight as resolved at deploy time (a token). */
  public readonly greenWeight: number;

  constructor(scope: Construct, id: string, props: LiveTrafficWeightsProps) {
    super(scope, id);
    this.parameter = new CfnParameter(Stack.of(this), 'TrafficWeightsParameter', {
      type: 'AWS::SSM::Parameter::Value<List<String>>',
      default: props.parameterName,
      description: 'SSM parameter with the live listener weights "<blue>,<green>". Do not override.',
    });
    const weights = this.parameter.valueAsList;
    this.blueWeight = Token.asNumber(Fn.select(0, weights));
    this.greenWeight = Token.asNumber(Fn.select(1, weights));
  }
}
