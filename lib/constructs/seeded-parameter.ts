import { CfnParameter, Fn, Stack, Token } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ssmParameterArn } from './arns';
import { acknowledgeCustomResourceProvider } from './initial-desired-count';

/** Properties of {@link SeededParameter}. */
export interface SeededParameterProps {
  /** SSM parameter name, starting with a slash. */
  readonly parameterName: string;
  readonly type: 'String' | 'StringList';
  /** Written only when the parameter does not exist yet (first deploy). */
  readonly initialValue: string;
  readonly description: string;
}

/**
 * An SSM parameter that holds live operational state (traffic weights, the batch switch):
 * created with an initial value on the first deploy, then owned by the automation that
 * writes it. A deploy never overwrites or deletes it, so CloudFormation cannot undo what
 * a rollback or the kill switch did (aws/aws-cdk#36649 is the listener-weights case).
 */
export class SeededParameter extends Construct {
  public readonly parameterName: string;
  public readonly parameterArn: string;
  /** The custom resource that creates the parameter on first deploy. */
  public readonly seed: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: SeededParameterProps) {
    super(scope, id);
    this.parameterName = props.parameterName;
    this.parameterArn = ssmParameterArn(this, props.parameterName);

    this.seed = new cr.AwsCustomResource(this, 'Seed', {
      installLatestAwsSdk: false,
      onCreate: {
        service: 'SSM',
        action: 'putParameter',
        parameters: {
          Name: props.parameterName,
          Type: props.type,
          Value: props.initialValue,
          Overwrite: false,
          Description: props.description,
        },
        physicalResourceId: cr.PhysicalResourceId.of(props.parameterName),
        // Already there means live state exists: it wins over config.
        ignoreErrorCodesMatching: 'ParameterAlreadyExists',
      },
      // No onUpdate and no onDelete: a deploy never rewrites live state, and deleting the
      // stack leaves it for the next incarnation.
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.parameterArn] }),
    });

    acknowledgeCustomResourceProvider(this);
  }
}

/** Properties of {@link DeployTimeParameter}. */
export interface DeployTimeParameterProps {
  /** Name of the SSM parameter (kept by a {@link SeededParameter}). */
  readonly parameterName: string;
  readonly type: 'String' | 'StringList';
  /** Logical id of the stack parameter; must stay stable. */
  readonly stackParameterId: string;
  readonly description: string;
}

/**
 * Reads a live SSM parameter at deploy time through an SSM-typed stack parameter, which
 * CloudFormation resolves afresh on every create and update.
 */
export class DeployTimeParameter extends Construct {
  public readonly parameter: CfnParameter;

  constructor(scope: Construct, id: string, props: DeployTimeParameterProps) {
    super(scope, id);
    this.parameter = new CfnParameter(Stack.of(this), props.stackParameterId, {
      type:
        props.type === 'StringList'
          ? 'AWS::SSM::Parameter::Value<List<String>>'
          : 'AWS::SSM::Parameter::Value<String>',
      default: props.parameterName,
      description: props.description,
    });
  }

  get valueAsString(): string {
    return this.parameter.valueAsString;
  }

  /** Element `index` of a StringList value, as a number token. */
  numberAt(index: number): number {
    return Token.asNumber(Fn.select(index, this.parameter.valueAsList));
  }
}
