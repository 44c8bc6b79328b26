import { CfnOutput, Duration, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { appSettingsEnvironment, type EnvironmentConfig } from '../config';
import { AlarmFactory } from '../constructs/alarm-factory';
import { AlertTopics } from '../constructs/alert-topics';
import type { ApiKeySecrets } from '../constructs/api-key-secrets';
import { Automation } from '../constructs/automation';
import { BatchPipeline } from '../constructs/batch-pipeline';
import { BlueGreenService } from '../constructs/blue-green-service';
import { BudgetGuard } from '../constructs/budget-guard';
import { Cache } from '../constructs/cache';
import { DATABASE_NAME, type Database } from '../constructs/database';
import { DbBackupTask, DUMP_CONTAINERS, DUMP_PREFIX } from '../constructs/db-backup';
import { DbInspect } from '../constructs/db-inspect';
import { HealthCheck } from '../constructs/health-check';
import { estimateMaxConnections } from '../constructs/max-connections';
import { Observability } from '../constructs/observability';
import { OperatorPolicy } from '../constructs/operator-policy';
import { Remediation } from '../constructs/remediation';
import { dbConnectionsThreshold } from '../constructs/runbook';
import { DeployTimeParameter } from '../constructs/seeded-parameter';
import { SpendGuard } from '../constructs/spend-guard';
import { SpendReconciliation } from '../constructs/spend-reconciliation';
import { TrafficShifter } from '../constructs/traffic-shifter';
import { LiveTrafficWeights } from '../constructs/traffic-weights';
import { SYSTEM_NAME } from '../naming';
import { environmentSettings } from './environment-settings';
import type { StatefulStack } from './stateful-stack';

/** Properties of {@link ServiceStack}. */
export interface ServiceStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The environment's stateful stack: network, image repository, data tier, live state. */
  readonly stateful: StatefulStack;
}

/** Dashboard names: the runbook's FA-AI-System-Production in prod. */
const DASHBOARD_SUFFIX = { dev: 'Development', staging: 'Staging', prod: 'Production' } as const;

/** The data tier the containers use. */
export interface DataTier {
  readonly database: Database;
  readonly cache: Cache;
  readonly apiKeys: ApiKeySecrets;
  /** The key the secrets are encrypted with. */
  readonly dataKey: kms.IKey;
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
  data: DataTier,
): {
  environment: Record<string, string>;
  secrets: Record<string, ecs.Secret>;
  /** The database credentials alone (DB_USER and DB_PASSWORD of `secrets`). */
  databaseCredentials: { username: ecs.Secret; password: ecs.Secret };
  /** Lets a task execution role decrypt the secrets (through Secrets Manager only). */
  grantSecretsDecrypt(role: iam.IRole): void;
} {
  const byArn = (id: string, secret: secretsmanager.ISecret) =>
    secretsmanager.Secret.fromSecretCompleteArn(scope, id, secret.secretArn);
  const database = byArn('DatabaseSecret', data.database.secret);
  const databaseCredentials = {
    username: ecs.Secret.fromSecretsManager(database, 'username'),
    password: ecs.Secret.fromSecretsManager(database, 'password'),
  };
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
    databaseCredentials,
    secrets: {
      DB_USER: databaseCredentials.username,
      DB_PASSWORD: databaseCredentials.password,
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
 * The stateless tier of an environment: cluster, blue and green services, the ALB, the
 * weekly batch, alert topics and the budget guard. Safe to destroy and recreate.
 */
export class ServiceStack extends Stack {
  public readonly service: BlueGreenService;
  public readonly weights: LiveTrafficWeights;
  public readonly alerts: AlertTopics;
  /** Builds every alarm of the stack from the alarm catalogue. */
  public readonly alarms: AlarmFactory;
  public readonly batch: BatchPipeline;
  public readonly budgetGuard: BudgetGuard;
  /** The runbook's budget alerts on all spend (LLM and AWS), within minutes. */
  public readonly spendGuard: SpendGuard;
  public readonly observability: Observability;
  public readonly healthCheck: HealthCheck;
  public readonly trafficShifter: TrafficShifter;
  public readonly remediation: Remediation;
  public readonly automation: Automation;
  public readonly spendReconciliation: SpendReconciliation;
  /** Attach to the people who run the runbook: what the ops CLI calls. */
  public readonly operatorPolicy: OperatorPolicy;
  /** `ops db`: the runbook's database checks, run in the VPC. */
  public readonly dbInspect: DbInspect;
  /** `ops backup dump`: the runbook's pg_dump to the backups bucket. */
  public readonly dbBackup: DbBackupTask;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    const { retainData, removalPolicy, logRetention, functionLogs, name } = environmentSettings(config);
    // Prefix of alarm, topic and budget names: fa-ai-system-<env>.
    const prefix = `${SYSTEM_NAME}-${config.envName}`;
    const colourNames = (colour: 'blue' | 'green') => ({
      service: name(`${SYSTEM_NAME}-${colour}-service`),
      logGroup: `/ecs/${name(`${SYSTEM_NAME}-${colour}`)}`,
      family: name(`${SYSTEM_NAME}-${colour}`),
    });

    // Declared before any grant: a grant checks it to keep the stateful stack (KMS key
    // policies) from referencing roles of this stack, which would be a cycle.
    this.addStackDependency(
      stateful,
      'live parameters and the data tier must exist before this stack deploys',
    );
    const dataTier = dataTierContainerConfig(this, {
      database: stateful.database,
      cache: stateful.cache,
      apiKeys: stateful.apiKeys,
      dataKey: stateful.dataKey,
    });
    const environment = { ...appSettingsEnvironment(config.envName, config.app), ...dataTier.environment };
    // By ARN, so grants stay in this stack's policies (see dataTierContainerConfig).
    const opsTable = dynamodb.Table.fromTableArn(this, 'OpsTable', stateful.opsTable.table.tableArn);

    this.weights = new LiveTrafficWeights(this, 'TrafficWeights', {
      parameterName: stateful.trafficWeights.parameterName,
    });

    this.service = new BlueGreenService(this, 'Service', {
      config,
      vpc: stateful.vpc,
      repository: stateful.repository,
      blueWeight: this.weights.blueWeight,
      greenWeight: this.weights.greenWeight,
      names: {
        cluster: name(`${SYSTEM_NAME}-cluster`),
        blue: colourNames('blue'),
        green: colourNames('green'),
      },
      environment,
      secrets: dataTier.secrets,
    });
    for (const colour of this.service.colours) {
      dataTier.grantSecretsDecrypt(colour.taskDefinition.obtainExecutionRole());
    }
    stateful.database.allowFrom(this.service.serviceSecurityGroup, 'Service tasks (blue and green)');
    stateful.cache.allowFrom(this.service.serviceSecurityGroup, 'Service tasks (blue and green)');

    this.alerts = new AlertTopics(this, 'Alerts', {
      namePrefix: prefix,
      emails: config.alerts.emails,
      chatWebhookUrl: config.alerts.chatWebhookUrl,
      pagerEndpointUrl: config.alerts.pagerEndpointUrl,
      retainData,
    });
    this.alarms = new AlarmFactory(this, 'AlarmCatalogue', {
      namePrefix: `${prefix}-`,
      topics: this.alerts.topics,
    });

    const scheduleState = new DeployTimeParameter(this, 'BatchScheduleState', {
      parameterName: stateful.batchScheduleState.parameterName,
      type: 'String',
      stackParameterId: 'BatchScheduleStateParameter',
      description: 'SSM parameter with the live batch schedule state (ENABLED/DISABLED). Do not override.',
    });
    this.batch = new BatchPipeline(this, 'Batch', {
      cluster: this.service.cluster,
      repository: stateful.repository,
      imageTag: config.batch.imageTag ?? config.service.blue.imageTag,
      command: config.batch.command ?? [
        'python',
        'src/batch/run_batch_phase2.py',
        '--concurrent',
        '--max-concurrent',
        String(config.app.batchMaxConcurrency),
      ],
      cpu: config.batch.cpu,
      memoryMiB: config.batch.memoryMiB,
      cpuArchitecture: config.service.cpuArchitecture,
      names: {
        family: name(`${SYSTEM_NAME}-batch`),
        logGroup: `/ecs/${name(`${SYSTEM_NAME}-batch`)}`,
        stateMachine: name(`${SYSTEM_NAME}-weekly-batch`),
        schedule: name(`${SYSTEM_NAME}-weekly-batch`),
      },
      environment,
      secrets: dataTier.secrets,
      grantSecretsDecrypt: dataTier.grantSecretsDecrypt,
      opsTable,
      alerts: this.alerts,
      scheduleCron: config.batch.scheduleCron,
      timeZone: TimeZone.of(config.timeZone),
      scheduleState: scheduleState.valueAsString,
      timeout: Duration.minutes(config.batch.timeoutMinutes),
      retries: config.batch.retries,
      logRetention,
      removalPolicy,
      alarms: this.alarms,
    });
    stateful.database.allowFrom(this.batch.securityGroup, 'Batch tasks');
    stateful.cache.allowFrom(this.batch.securityGroup, 'Batch tasks');

    this.automation = new Automation(this, 'Automation', {
      envName: config.envName,
      namePrefix: prefix,
      config: config.automation,
      service: this.service,
      weightsParameterName: stateful.trafficWeights.parameterName,
      batch: this.batch,
      opsTable,
      alerts: this.alerts,
      ...functionLogs,
    });

    this.budgetGuard = new BudgetGuard(this, 'BudgetGuard', {
      config: config.budgets,
      namePrefix: prefix,
      envName: config.envName,
      emails: config.alerts.emails,
      alerts: this.alerts,
      alarms: this.alarms,
      batch: this.batch,
      cluster: this.service.cluster,
      scheduleStateParameterName: stateful.batchScheduleState.parameterName,
      opsTable,
      ...functionLogs,
      automation: this.automation,
    });

    const dbMaxConnections =
      config.database.maxConnections ?? estimateMaxConnections(config.database.instanceClass);

    this.spendGuard = new SpendGuard(this, 'SpendGuard', {
      envName: config.envName,
      config: config.spend.guard,
      budgets: config.budgets,
      budgetNames: this.budgetGuard.budgetNames,
      alerts: this.alerts,
      batch: this.batch,
      cluster: this.service.cluster,
      scheduleStateParameterName: stateful.batchScheduleState.parameterName,
      opsTable,
      automation: this.automation,
      ...functionLogs,
      alarms: this.alarms,
    });

    this.observability = new Observability(this, 'Observability', {
      envName: config.envName,
      dashboardName: `FA-AI-System-${DASHBOARD_SUFFIX[config.envName]}`,
      config: config.observability,
      alarms: this.alarms,
      service: this.service,
      database: stateful.database,
      dbMaxConnections,
      cache: stateful.cache,
      cacheNodes: 1 + config.cache.replicas,
      functions: [
        { name: 'budget-guard', fn: this.budgetGuard.handler, ownDeadLetterAlarm: true },
        { name: 'db-maintenance', fn: stateful.maintenance.handler },
        { name: 'db-migrate', fn: stateful.migrations.handler },
      ],
    });

    this.healthCheck = new HealthCheck(this, 'HealthCheck', {
      envName: config.envName,
      service: this.service,
      opsTable,
      alerts: this.alerts,
      alarms: this.alarms,
      timeZone: TimeZone.of(config.timeZone),
      morningHour: config.observability.morningCheckHour,
      lightEveryMinutes: config.observability.lightCheckMinutes,
      lightRenotifyMinutes: config.observability.lightCheckRenotifyMinutes,
      thresholds: config.observability,
      ...functionLogs,
    });

    this.spendReconciliation = new SpendReconciliation(this, 'SpendReconciliation', {
      envName: config.envName,
      adminKeys: stateful.adminKeys,
      config: config.spend.reconciliation,
      timeZone: TimeZone.of(config.timeZone),
      ...functionLogs,
      alarms: this.alarms,
    });

    const obs = this.observability;
    this.trafficShifter = new TrafficShifter(this, 'TrafficShifter', {
      envName: config.envName,
      stateMachineName: name(`${SYSTEM_NAME}-traffic-shift`),
      listener: this.service.listener,
      targetGroups: { blue: this.service.blue.targetGroup, green: this.service.green.targetGroup },
      weightsParameterName: stateful.trafficWeights.parameterName,
      opsTable,
      alarms: { p0: obs.p0Alarm, blue: obs.colourAlarms.blue, green: obs.colourAlarms.green },
      rollbackAlarms: this.alarms.alarmsWhere((alarm) => alarm.response === 'traffic-rollback'),
      alarmFacts: this.alarms.facts,
      alerts: this.alerts,
      rollbackWindowMinutes: config.traffic.rollbackWindowMinutes,
      rollbackCooldownMinutes: config.traffic.rollbackCooldownMinutes,
      rollbackMaxEventAgeMinutes: config.traffic.rollbackMaxEventAgeMinutes,
      ...functionLogs,
      automation: this.automation,
    });
    this.remediation = new Remediation(this, 'Remediation', {
      envName: config.envName,
      alarmPrefix: this.alarms.namePrefix,
      alarmFacts: this.alarms.facts,
      config: config.remediation,
      service: this.service,
      maxCounts: { blue: config.service.blue.maxCount, green: config.service.green.maxCount },
      weightsParameterName: stateful.trafficWeights.parameterName,
      opsTable,
      alerts: this.alerts,
      ...functionLogs,
      automation: this.automation,
    });
    obs.watch([
      { name: 'remediation', fn: this.remediation.handler },
      { name: 'health-check', fn: this.healthCheck.handler },
      { name: 'traffic-shift', fn: this.trafficShifter.shiftHandler },
      { name: 'traffic-rollback', fn: this.trafficShifter.rollbackHandler },
      { name: 'spend-guard', fn: this.spendGuard.handler },
      { name: 'automation-verify', fn: this.automation.verifier },
    ]);

    this.dbInspect = new DbInspect(this, 'DatabaseInspect', stateful.databaseFunctions);
    const backupName = name(`${SYSTEM_NAME}-db-backup`);
    // By name, rebuilt in this stack: the grants' db/* ARNs then need no cross-stack reference.
    const backupsBucket = s3.Bucket.fromBucketName(this, 'BackupsBucket', stateful.backups.bucketName);
    this.dbBackup = new DbBackupTask(this, 'DatabaseBackup', {
      vpc: stateful.vpc,
      database: stateful.database,
      credentials: dataTier.databaseCredentials,
      grantSecretsDecrypt: dataTier.grantSecretsDecrypt,
      bucket: backupsBucket,
      bucketKey: stateful.dataKey,
      cpuArchitecture: config.service.cpuArchitecture,
      ephemeralStorageGiB: config.backups.dumpStorageGiB,
      names: { family: backupName, logGroup: `/ecs/${backupName}` },
      logRetention,
      removalPolicy,
    });

    this.operatorPolicy = new OperatorPolicy(this, 'OperatorPolicy', {
      policyName: `${prefix}-operator`,
      serviceStackName: this.stackName,
      service: this.service,
      trafficShifter: this.trafficShifter,
      batch: this.batch,
      weightsParameterName: stateful.trafficWeights.parameterName,
      scheduleStateParameterName: stateful.batchScheduleState.parameterName,
      budgetNames: Object.values(this.budgetGuard.budgetNames),
      opsTable,
      alerts: this.alerts,
      dbFunctions: {
        inspect: this.dbInspect.handler.lambda,
        maintenance: stateful.maintenance.handler.lambda,
      },
      databaseInstanceIdentifier: stateful.database.instanceIdentifier,
      backupTask: this.dbBackup,
      backupsBucket,
      alarmPrefix: `${prefix}-`,
      databaseInstanceArn: stateful.database.instance.instanceArn,
      cacheReplicationGroupId: stateful.cache.replicationGroupId,
    });

    // Everything the ops CLI needs, in one output it reads with a single DescribeStacks.
    new CfnOutput(this, 'OpsManifest', {
      description: 'Resource names and ARNs for the ops CLI (npm run ops)',
      value: this.toJsonString({
        environment: config.envName,
        region: this.region,
        accountId: this.account,
        clusterName: this.service.cluster.clusterName,
        services: {
          blue: this.service.blue.service.serviceName,
          green: this.service.green.service.serviceName,
        },
        listenerArn: this.service.listener.listenerArn,
        loadBalancerFullName: this.service.loadBalancer.loadBalancerFullName,
        targetGroups: Object.fromEntries(
          this.service.colours.map((c) => [
            c.colour,
            { arn: c.targetGroup.targetGroupArn, fullName: c.targetGroup.targetGroupFullName },
          ]),
        ),
        weightsParameter: stateful.trafficWeights.parameterName,
        configuredWeights: { blue: config.traffic.blueWeight, green: config.traffic.greenWeight },
        opsTable: opsTable.tableName,
        shiftStateMachineArn: this.trafficShifter.stateMachine.stateMachineArn,
        // So that `ops health` applies the very thresholds the scheduled check does.
        healthThresholds: this.healthCheck.appliedThresholds,
        alarms: {
          p0: obs.p0Alarm.alarmName,
          blue: obs.colourAlarms.blue.map((a) => a.alarmName),
          green: obs.colourAlarms.green.map((a) => a.alarmName),
        },
        topics: this.alerts.topicArns,
        // What `ops diagnose` reads besides the above: the runbook's P1 diagnostic steps.
        diagnose: {
          logGroups: Object.fromEntries(this.service.colours.map((c) => [c.colour, c.logGroup.logGroupName])),
          alarmPrefix: `${prefix}-`,
          database: {
            instanceId: stateful.database.instance.instanceIdentifier,
            maxConnections: dbMaxConnections,
            connectionsThreshold: dbConnectionsThreshold(
              dbMaxConnections,
              config.observability.dbConnectionsMaxPercent,
            ),
          },
          cache: {
            replicationGroupId: stateful.cache.replicationGroupId,
            memoryMaxPercent: config.observability.cacheMemoryMaxPercent,
          },
        },
        batch: {
          stateMachineArn: this.batch.stateMachine.stateMachineArn,
          scheduleName: this.batch.schedule.scheduleName,
          scheduleGroup: 'default',
          scheduleStateParameter: stateful.batchScheduleState.parameterName,
          taskFamily: this.batch.taskDefinition.family,
          killSwitchBudgetName: `${prefix}-monthly`,
          killThresholdPercent: config.budgets.killSwitchPercent,
        },
        // So that `batch enable` refuses by the very numbers the spend guard acts on.
        spend: {
          budgets: this.spendGuard.settings.budgets,
          killSwitchPercent: this.spendGuard.settings.killSwitchPercent,
          maxCallCostUsd: this.spendGuard.settings.maxCallCostUsd,
          awsSettleHours: this.spendGuard.settings.awsSettleHours,
        },
      }),
    });

    // ops db and ops backup: a second output, so that OpsManifest stays under 4 KB; the CLI's
    // one DescribeStacks returns both.
    new CfnOutput(this, 'OpsManifestDatabase', {
      description: 'Database and backup resources for the ops CLI (npm run ops -- db / backup)',
      value: this.toJsonString({
        database: {
          instanceIdentifier: stateful.database.instanceIdentifier,
          inspectFunction: this.dbInspect.handler.lambda.functionName,
          maintenanceFunction: stateful.maintenance.handler.lambda.functionName,
        },
        backup: {
          bucket: backupsBucket.bucketName,
          prefix: DUMP_PREFIX,
          keyArn: stateful.dataKey.keyArn,
          taskFamily: this.dbBackup.taskDefinition.family,
          containers: DUMP_CONTAINERS,
          subnets: stateful.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
          securityGroup: this.dbBackup.securityGroup.securityGroupId,
          logGroup: this.dbBackup.logGroup.logGroupName,
        },
      }),
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
    new CfnOutput(this, 'OperatorPolicyArn', {
      value: this.operatorPolicy.policy.managedPolicyArn,
      description: 'Attach to the people who run the runbook (npm run ops)',
    });
    new CfnOutput(this, 'LoadBalancerDnsName', { value: this.service.loadBalancer.loadBalancerDnsName });
    new CfnOutput(this, 'ClusterName', { value: this.service.cluster.clusterName });
    new CfnOutput(this, 'TrafficWeightsParameterName', { value: stateful.trafficWeights.parameterName });
    new CfnOutput(this, 'BatchStateMachineArn', { value: this.batch.stateMachine.stateMachineArn });
  }
}
