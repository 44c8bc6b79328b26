import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { appSettingsEnvironment, type EnvironmentConfig } from '../config';
import type { ApiKeySecrets } from '../constructs/api-key-secrets';
import { BlueGreenService } from '../constructs/blue-green-service';
import { Cache } from '../constructs/cache';
import { DATABASE_NAME, type Database } from '../constructs/database';
import { LiveTrafficWeights } from '../constructs/traffic-weights';
import { envScopedName, SYSTEM_NAME } from '../naming';

/** Properties of {@link ServiceStack}. */
export interface ServiceStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly vpc: ec2.IVpc;
  readonly repository: ecr.IRepository;
  /** SSM parameter with the live weights, kept by the stateful stack. */
  readonly trafficWeightsParameterName: string;
  /** The data tier the containers use (from the stateful stack). */
  readonly data: {
    readonly database: Database;
    readonly cache: Cache;
    readonly apiKeys: ApiKeySecrets;
    /** The key the secrets are encrypted with. */
    readonly dataKey: kms.IKey;
  };
}

/**
 * What the application containers get: endpoints as plain environment, every credential as
 * an ECS secret (resolved by ECS at task start, never in the template or task definition).
 *
 * The secrets are referenced by ARN and their key is granted explicitly: letting each
 * secret grant its own KMS key would put this stack's roles into the stateful stack's key
 * policy whenever CDK cannot prove both stacks share an account (env-agnostic dev), which
 * makes the two stacks depend on each other.
 */
export function dataTierContainerConfig(
  scope: Construct,
  data: ServiceStackProps['data'],
): {
  environment: Record<string, string>;
  secrets: Record<string, ecs.Secret>;
  /** Lets a task execution role decrypt the secrets (through Secrets Manager only). */
  grantSecretsDecrypt(role: iam.IRole): void;
} {
  const byArn = (id: string, secret: secretsmanager.ISecret) =>
    secretsmanager.Secret.fromSecretCompleteArn(scope, id, secret.secretArn);
  const database = byArn('DatabaseSecret', data.database.secret);
  return {
    environment: {
      DB_HOST: data.database.endpointHost,
      DB_PORT: String(data.database.port),
      DB_NAME: DATABASE_NAME,
      DB_SSLMODE: 'verify-full',
      REDIS_HOST: data.cache.endpointHost,
      REDIS_PORT: String(Cache.PORT),
      REDIS_TLS: 'true',
    },
    secrets: {
      DB_USER: ecs.Secret.fromSecretsManager(database, 'username'),
      DB_PASSWORD: ecs.Secret.fromSecretsManager(database, 'password'),
      REDIS_AUTH_TOKEN: ecs.Secret.fromSecretsManager(byArn('CacheAuthToken', data.cache.authToken)),
      ANTHROPIC_API_KEY: ecs.Secret.fromSecretsManager(byArn('AnthropicApiKey', data.apiKeys.anthropic)),
      OPENAI_API_KEY: ecs.Secret.fromSecretsManager(byArn('OpenAiApiKey', data.apiKeys.openai)),
    },
    grantSecretsDecrypt(role) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [data.dataKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com` },
          },
        }),
      );
    },
  };
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

    // Declared before any grant: a grant checks it to keep the stateful stack (KMS key
    // policies) from referencing roles of this stack, which would be a cycle.
    this.addStackDependency(
      Stack.of(props.data.database),
      'the traffic weights parameter and the data tier must exist before this stack deploys',
    );
    const dataTier = dataTierContainerConfig(this, props.data);

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
      environment: { ...appSettingsEnvironment(config.envName, config.app), ...dataTier.environment },
      secrets: dataTier.secrets,
    });
    for (const colour of this.service.colours) {
      dataTier.grantSecretsDecrypt(colour.taskDefinition.obtainExecutionRole());
    }
    props.data.database.allowFrom(this.service.serviceSecurityGroup, 'Service tasks (blue and green)');
    props.data.cache.allowFrom(this.service.serviceSecurityGroup, 'Service tasks (blue and green)');

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
