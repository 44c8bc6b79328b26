import { Construct } from 'constructs';
import { DeployTimeParameter, SeededParameter } from './seeded-parameter';

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
 * parameter together with the listener. One StringList (not two parameters) so that a
 * reader never sees half a shift.
 */
export class TrafficWeightsStore extends SeededParameter {
  constructor(scope: Construct, id: string, props: TrafficWeightsStoreProps) {
    super(scope, id, {
      parameterName: props.parameterName,
      type: 'StringList',
      initialValue: `${props.initialBlueWeight},${props.initialGreenWeight}`,
      description: 'Live ALB weights blue,green. Written by traffic shifting; read by every deploy.',
    });
  }
}

/** Properties of {@link LiveTrafficWeights}. */
export interface LiveTrafficWeightsProps {
  /** Name of the parameter kept by {@link TrafficWeightsStore}. */
  readonly parameterName: string;
}

/** The live weights, resolved by CloudFormation at deploy time. */
export class LiveTrafficWeights extends Construct {
  public readonly reader: DeployTimeParameter;
  /** Blue weight as resolved at deploy time (a token). */
  public readonly blueWeight: number;
  /** Green weight as resolved at deploy time (a token). */
  public readonly greenWeight: number;

  constructor(scope: Construct, id: string, props: LiveTrafficWeightsProps) {
    super(scope, id);
    this.reader = new DeployTimeParameter(this, 'Reader', {
      parameterName: props.parameterName,
      type: 'StringList',
      stackParameterId: 'TrafficWeightsParameter',
      description: 'SSM parameter with the live listener weights "<blue>,<green>". Do not override.',
    });
    this.blueWeight = this.reader.numberAt(0);
    this.greenWeight = this.reader.numberAt(1);
  }
}
