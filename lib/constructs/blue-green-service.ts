import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ColourConfig, EnvironmentConfig } from '../config';
import { acknowledgeApplicationTask, addLoggedFargateTask } from './fargate-task';
import { InitialDesiredCount } from './initial-desired-count';

/** The two colours. Blue is live at first; either may be live later. */
export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];

/** Properties of {@link ColourService}. */
export interface ColourServiceProps {
  readonly colour: Colour;
  readonly cluster: ecs.ICluster;
  readonly repository: ecr.IRepository;
  readonly service: EnvironmentConfig['service'];
  readonly colourConfig: ColourConfig;
  /** `fa-ai-system-<colour>` with the environment suffix outside prod. */
  readonly names: { readonly service: string; readonly logGroup: string; readonly family: string };
  readonly securityGroup: ec2.ISecurityGroup;
  readonly subnets: ec2.SubnetSelection;
  readonly environment: Readonly<Record<string, string>>;
  /** Container secrets (credentials, API keys) from Secrets Manager. */
  readonly secrets: Readonly<Record<string, ecs.Secret>>;
  readonly removalPolicy: RemovalPolicy;
  readonly vpc: ec2.IVpc;
}

/** One colour: task definition, log group, Fargate service, target group and scaling. */
export class ColourService extends Construct {
  public readonly colour: Colour;
  public readonly logGroup: logs.LogGroup;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  public readonly service: ecs.FargateService;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly scaling: ecs.ScalableTaskCount;

  constructor(scope: Construct, id: string, props: ColourServiceProps) {
    super(scope, id);
    const { service: svc, colourConfig } = props;
    this.colour = props.colour;

    ({ logGroup: this.logGroup, taskDefinition: this.taskDefinition } = addLoggedFargateTask(this, {
      names: props.names,
      cpu: svc.cpu,
      memoryMiB: svc.memoryMiB,
      cpuArchitecture: svc.cpuArchitecture,
      logRetention: svc.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    }));

    this.container = this.taskDefinition.addContainer('App', {
      containerName: 'app',
      image: ecs.ContainerImage.fromEcrRepository(props.repository, colourConfig.imageTag),
      essential: true,
      portMappings: [{ containerPort: svc.containerPort, protocol: ecs.Protocol.TCP }],
      environment: { ...props.environment, SERVICE_COLOUR: props.colour },
      secrets: { ...props.secrets },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: props.colour,
        // A slow log pipe must never stall request handling.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      stopTimeout: Duration.seconds(30),
    });
    acknowledgeApplicationTask(this.taskDefinition, "this colour's log group");

    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: props.names.service,
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      securityGroups: [props.securityGroup],
      vpcSubnets: props.subnets,
      assignPublicIp: false,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(60),
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    // The task count is live state (scale-outs, remediation, shifts): set once, at creation.
    new InitialDesiredCount(this, 'InitialCount', {
      service: this.service,
      count: colourConfig.desiredCount,
    });

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      port: svc.containerPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: svc.healthCheckPath,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    this.service.attachToApplicationTargetGroup(this.targetGroup);

    this.scaling = this.service.autoScaleTaskCount({
      minCapacity: colourConfig.minCount,
      maxCapacity: colourConfig.maxCount,
    });
    this.scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: svc.scaling.cpuTargetPercent });
    this.scaling.scaleOnMemoryUtilization('Memory', {
      targetUtilizationPercent: svc.scaling.memoryTargetPercent,
    });
  }

  /** Scales on ALB requests per target; needs the target group attached to a listener first. */
  scaleOnRequests(requestsPerTarget: number): void {
    this.scaling.scaleOnRequestCount('Requests', { requestsPerTarget, targetGroup: this.targetGroup });
  }
}

/** Properties of {@link BlueGreenService}. */
export interface BlueGreenServiceProps {
  /** The validated environment config. */
  readonly config: EnvironmentConfig;
  readonly vpc: ec2.IVpc;
  /** Where the application image lives. */
  readonly repository: ecr.IRepository;
  /** Listener weight of blue; a deploy-time token from the weights parameter. */
  readonly blueWeight: number;
  /** Listener weight of green; a deploy-time token from the weights parameter. */
  readonly greenWeight: number;
  /** Physical names for the cluster and both colours. */
  readonly names: {
    readonly cluster: string;
    readonly blue: ColourServiceProps['names'];
    readonly green: ColourServiceProps['names'];
  };
  /** Container environment shared by both colours (settings and endpoints, nothing secret). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Container secrets shared by both colours, injected by ECS from Secrets Manager.
   * @default - none
   */
  readonly secrets?: Readonly<Record<string, ecs.Secret>>;
  /**
   * Days to keep ALB access logs.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
}

/**
 * The interactive service tier: an ECS cluster with two Fargate services (blue and green),
 * each behind its own target group, and one ALB that forwards to both by weight.
 */
export class BlueGreenService extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly blue: ColourService;
  public readonly green: ColourService;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener carrying the weighted forward: HTTPS, or HTTP in an HTTP-only dev. */
  public readonly listener: elbv2.ApplicationListener;
  /** The HTTP listener that redirects to HTTPS; absent in an HTTP-only dev. */
  public readonly redirectListener?: elbv2.ApplicationListener;
  public readonly albSecurityGroup: ec2.SecurityGroup;
  /** Attached to the tasks of both colours; data stores admit this group. */
  public readonly serviceSecurityGroup: ec2.SecurityGroup;
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: BlueGreenServiceProps) {
    super(scope, id);
    const { config, vpc } = props;
    const retainData = config.protection.retainData;
    const removalPolicy = retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: props.names.cluster,
      vpc,
      containerInsightsV2: config.service.containerInsights
        ? ecs.ContainerInsights.ENABLED
        : ecs.ContainerInsights.DISABLED,
    });

    if (!config.service.containerInsights) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-ECS4',
        reason:
          'Container Insights is off by config in this non-production environment to fit its cost budget; ' +
          'service CPU/memory metrics (free) still feed the dashboard and alarms.',
      });
    }

    this.albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', {
      vpc,
      description: 'Public ALB of the FA AI System: HTTPS (and HTTP redirect) from the internet',
      allowAllOutbound: false,
    });
    Validations.of(this.albSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'The internet-facing ALB serves financial advisors on the internet: 443 (and 80, redirected to 443) ' +
        'from anywhere is its purpose. Tasks admit only this group.',
    });
    this.serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc,
      description: 'FA AI System service tasks (blue and green)',
      // Tasks call the Anthropic and OpenAI APIs on the internet.
      allowAllOutbound: true,
    });

    const appSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const colourProps = (colour: Colour) => ({
      colour,
      cluster: this.cluster,
      repository: props.repository,
      service: config.service,
      colourConfig: config.service[colour],
      names: props.names[colour],
      securityGroup: this.serviceSecurityGroup,
      subnets: appSubnets,
      environment: props.environment,
      secrets: props.secrets ?? {},
      removalPolicy,
      vpc,
    });
    this.blue = new ColourService(this, 'Blue', colourProps('blue'));
    this.green = new ColourService(this, 'Green', colourProps('green'));

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      // ALB access logs support SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: !retainData,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogRetentionDays ?? 90) }],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the access-log destination of the ALB; logging access to the log bucket would recurse.',
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: this.albSecurityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: retainData,
      idleTimeout: Duration.seconds(60),
    });
    this.loadBalancer.logAccessLogs(this.accessLogsBucket, 'alb');

    const weightedForward = elbv2.ListenerAction.weightedForward([
      { targetGroup: this.blue.targetGroup, weight: props.blueWeight },
      { targetGroup: this.green.targetGroup, weight: props.greenWeight },
    ]);

    const certificateArn = config.tls.certificateArn;
    if (certificateArn) {
      this.listener = this.loadBalancer.addListener('HttpsListener', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultAction: weightedForward,
        open: true,
      });
      this.redirectListener = this.loadBalancer.addRedirect({
        sourcePort: 80,
        sourceProtocol: elbv2.ApplicationProtocol.HTTP,
        targetPort: 443,
        targetProtocol: elbv2.ApplicationProtocol.HTTPS,
      });
    } else {
      // The schema only lets an explicit dev opt-in get here.
      this.listener = this.loadBalancer.addListener('HttpListener', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: weightedForward,
        open: true,
      });
    }

    for (const colour of [this.blue, this.green]) {
      colour.scaleOnRequests(config.service.scaling.requestsPerTargetPerMinute);
    }
  }

  /** Both colours, blue first. */
  get colours(): readonly ColourService[] {
    return [this.blue, this.green];
  }
}
