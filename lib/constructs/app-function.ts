import {
  AssetHashType,
  type CfnElement,
  DockerImage,
  Duration,
  type RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { CallDeclaration } from '../../core/calls';
import type { FunctionContract } from '../../core/contracts/contract';
import { LocalEsbuild, PROJECT_ROOT } from '../lambda-bundling';
import { type DeclaredGrants, grantDeclaredCalls } from './calls';
import { nagManagedPolicy } from './nag';

/** Where the log group of a construct's functions is kept: passed through to {@link AppFunction}. */
export interface FunctionLogProps {
  readonly logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
}

/** The {@link FunctionLogProps} of props that carry more, for an {@link AppFunction}'s props. */
export function functionLogs(props: FunctionLogProps): FunctionLogProps {
  return { logRetention: props.logRetention, logRemovalPolicy: props.logRemovalPolicy };
}

/** Properties of {@link AppFunction}. */
export interface AppFunctionProps<Values, Input = Values> extends FunctionLogProps {
  /**
   * The function's configuration contract (core/contracts): it names the folder under lambdas/
   * holding handler.ts, and its variables are the function's environment.
   */
  readonly contract: FunctionContract<Values, Input>;
  /** The values of the contract's variables, which the handler will parse back. */
  readonly config: NoInfer<Input>;
  readonly description: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Run inside this VPC (needed to reach the database). @default - not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** @default - private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default - a new security group when in a VPC */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Give the function a dead-letter queue (encrypted, TLS-only, 14 days) for events of failed
   * asynchronous invocations; event sources and schedules can use it too.
   * @default false
   */
  readonly deadLetterQueue?: boolean;
  /** Retries of a failed asynchronous invocation. @default 2 */
  readonly retryAttempts?: number;
  /**
   * Folders (relative to the project root) copied next to the bundle, e.g. SQL files
   * read at run time. @default - none
   */
  readonly copyDirectories?: readonly string[];
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
}

/** The variables AppFunction sets on every function besides its contract's. */
export function baseEnvironment(functionName: string): Record<string, string> {
  return { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: functionName };
}

/**
 * Every Lambda of this project: Node.js 22 on ARM64, bundled once per synth by the local
 * esbuild in this process (minified, source maps, AWS SDK from the runtime), JSON logs into its own log group with
 * retention, X-Ray tracing. Its environment is its contract's variables (core/contracts).
 */
export class AppFunction<Values = unknown, Input = Values> extends Construct {
  public readonly lambda: nodejs.NodejsFunction;
  /** The function's execution role (created with it: an AppFunction takes no role). */
  public readonly role: iam.IRole;
  public readonly logGroup: logs.LogGroup;
  /** Present when `deadLetterQueue` is set. */
  public readonly deadLetterQueue?: sqs.Queue;
  private schedulerRole?: iam.Role;
  private readonly functionName: string;

  constructor(scope: Construct, id: string, props: AppFunctionProps<Values, Input>) {
    super(scope, id);
    const name = props.contract.functionName;
    this.functionName = name;
    const stack = Stack.of(this);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    if (props.deadLetterQueue) {
      this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
    }

    this.lambda = new nodejs.NodejsFunction(this, 'Function', {
      // Bundled in this process (see LocalEsbuild); NodejsFunction keeps the Lambda defaults.
      code: lambda.Code.fromAsset(PROJECT_ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Required by the type, never pulled: local bundling always succeeds or throws.
          image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
          local: new LocalEsbuild(name, props.copyDirectories),
        },
      }),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      logGroup: this.logGroup,
      environment: {
        ...baseEnvironment(name),
        // CDK's encoder: a deploy-time value inside a JSON variable (a Lazy, say) is escaped
        // when it resolves, which JSON.stringify cannot do.
        ...props.contract.serialize(props.config, (value) => stack.toJsonString(value)),
      },
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets : undefined,
      securityGroups: props.securityGroups,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: props.retryAttempts ?? 2,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    });
    this.role = this.lambda.role as iam.IRole;
    this.acknowledgeFindings(props.vpc !== undefined);
  }

  /** The name the function's calls are granted and recorded under: `lambda <name>`. */
  get caller(): string {
    return `lambda ${this.functionName}`;
  }

  /** Grants the function exactly the calls of `declaration` on the resources of `grants`. */
  grantCalls<D extends CallDeclaration>(declaration: D, grants: DeclaredGrants<D>): void {
    grantDeclaredCalls(this.role, this.caller, declaration, grants);
  }

  /**
   * A target for an EventBridge Scheduler schedule that invokes this function with `input`.
   * All schedules of the function share one role that may invoke only it.
   */
  schedulerTarget(
    input: Record<string, unknown>,
    options: { readonly retryAttempts?: number; readonly maxEventAge?: Duration } = {},
  ): targets.LambdaInvoke {
    if (!this.schedulerRole) {
      const stack = Stack.of(this);
      this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
        description: `EventBridge Scheduler: invoke ${this.node.path}`,
      });
      Validations.of(this.schedulerRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.lambda.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          'lambda:InvokeFunction on this one function and its versions (ARN:*), which is how CDK grants invoke.',
      });
    }
    return new targets.LambdaInvoke(this.lambda, {
      role: this.schedulerRole,
      input: scheduler.ScheduleTargetInput.fromObject(input),
      retryAttempts: options.retryAttempts ?? 2,
      maxEventAge: options.maxEventAge ?? Duration.hours(1),
      deadLetterQueue: this.deadLetterQueue,
    });
  }

  /**
   * A target for an EventBridge rule that invokes this function with the event; deliveries that
   * still fail after `retryAttempts` or `maxEventAge` go to its dead-letter queue.
   */
  eventTarget(options: {
    readonly retryAttempts: number;
    readonly maxEventAge: Duration;
  }): eventTargets.LambdaFunction {
    return new eventTargets.LambdaFunction(this.lambda, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: options.retryAttempts,
      maxEventAge: options.maxEventAge,
    });
  }

  private acknowledgeFindings(inVpc: boolean): void {
    const role = this.lambda.role;
    if (role) {
      const managedPolicies = inVpc
        ? ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole']
        : ['AWSLambdaBasicExecutionRole'];
      for (const managed of managedPolicies) {
        Validations.of(role).acknowledge({
          id: nagManagedPolicy(managed),
          reason:
            `${managed} is AWS's minimal managed policy for ` +
            (managed === 'AWSLambdaBasicExecutionRole'
              ? 'writing the function logs'
              : 'the network interfaces of a Lambda in a VPC, whose EC2 actions have no resource-level permissions') +
            '; every other permission is an inline grant scoped to a resource.',
        });
      }
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions ' +
          'and must be granted on *.',
      });
    }
    Validations.of(this.lambda).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime this project standardises on (bundles are built and tested for node22, and ' +
        'the locked AWS SDK supports it); moving to 24 is a deliberate upgrade, not a drift.',
    });
  }
}
