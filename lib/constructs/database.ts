import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import { type DbInspectValues, LAMBDA_RUNTIME_CA_BUNDLE } from '../../core/contracts/database';
import type { DatabaseConfig } from '../config';
import type { ResourceGrant } from './calls';
import { nagManagedPolicy } from './nag';
import { allowIngress } from './security-group-access';

/** The runbook's database name. */
export const DATABASE_NAME = 'fa_ai_db';

/** Properties of {@link Database}. */
export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly config: DatabaseConfig;
  /** The runbook's `fa-ai-system-db`, environment-suffixed outside prod. */
  readonly instanceIdentifier: string;
  /** Name of the generated master credentials secret. */
  readonly secretName: string;
  /** Encrypts storage, the credentials secret and Performance Insights. */
  readonly encryptionKey: kms.IKey;
  /** Deletion protection and snapshot-on-delete (staging and prod). */
  readonly retainData: boolean;
  /** Days to keep the PostgreSQL logs exported to CloudWatch. */
  readonly logRetention: logs.RetentionDays;
}

/**
 * RDS PostgreSQL 17 with pgvector available (17.1+ ships pgvector 0.8 with HNSW), the
 * runbook's `pg_stat_statements` preloaded, TLS forced and slow statements logged. Nothing
 * reaches it unless granted with {@link allowFrom}; optionally fronted by RDS Proxy.
 */
export class Database extends Construct {
  /** 17.9 is the newest 17.x minor this aws-cdk-lib knows; pgvector needs >= 17.1. */
  static readonly ENGINE_VERSION = rds.PostgresEngineVersion.VER_17_9;

  static readonly LOG_EXPORTS = ['postgresql', 'upgrade'] as const;

  public readonly instance: rds.DatabaseInstance;
  /** The exported PostgreSQL logs, created here so their retention needs no extra Lambda. */
  public readonly logGroups: logs.LogGroup[];
  public readonly secret: secretsmanager.ISecret;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly parameterGroup: rds.ParameterGroup;
  public readonly proxy?: rds.DatabaseProxy;
  /** Where clients connect: the proxy endpoint when there is one, else the instance. */
  public readonly endpointHost: string;
  public readonly port: number;
  /** The instance identifier as configured (a literal: ARNs built from it need no cross-stack reference). */
  public readonly instanceIdentifier: string;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { config } = props;
    this.encryptionKey = props.encryptionKey;
    this.instanceIdentifier = props.instanceIdentifier;
    const engine = rds.DatabaseInstanceEngine.postgres({ version: Database.ENGINE_VERSION });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'FA AI System PostgreSQL: only service tasks, batch tasks and database Lambdas',
      allowAllOutbound: false,
    });

    this.parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'fa_ai_db: pg_stat_statements, forced TLS, slow statement log',
      parameters: {
        // The runbook ranks queries with pg_stat_statements; it must be preloaded.
        shared_preload_libraries: 'pg_stat_statements',
        'pg_stat_statements.track': 'top',
        'rds.force_ssl': '1',
        log_min_duration_statement: String(config.slowStatementMs),
        log_lock_waits: '1',
        log_temp_files: '0',
        idle_in_transaction_session_timeout: '300000',
      },
    });

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceIdentifier: props.instanceIdentifier,
      databaseName: DATABASE_NAME,
      instanceType: new ec2.InstanceType(config.instanceClass),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.securityGroup],
      multiAz: config.multiAz,
      storageType: rds.StorageType.GP3,
      allocatedStorage: config.allocatedStorageGiB,
      maxAllocatedStorage: config.maxAllocatedStorageGiB,
      storageEncrypted: true,
      storageEncryptionKey: props.encryptionKey,
      credentials: rds.Credentials.fromGeneratedSecret('fa_ai_admin', {
        secretName: props.secretName,
        encryptionKey: props.encryptionKey,
      }),
      parameterGroup: this.parameterGroup,
      backupRetention: Duration.days(config.backupRetentionDays),
      preferredBackupWindow: '06:00-06:30',
      // After the weekly batch (Sunday 02:00-06:00 local) and its maintenance.
      preferredMaintenanceWindow: 'sun:08:00-sun:08:30',
      copyTagsToSnapshot: true,
      deletionProtection: props.retainData,
      removalPolicy: props.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      deleteAutomatedBackups: !props.retainData,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: props.encryptionKey,
      performanceInsightRetention: rds.PerformanceInsightRetention.DEFAULT,
      cloudwatchLogsExports: [...Database.LOG_EXPORTS],
      monitoringInterval: Duration.seconds(60),
      autoMinorVersionUpgrade: true,
      publiclyAccessible: false,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    });
    this.secret = this.instance.secret as secretsmanager.ISecret;
    // A retained snapshot is useless without its credentials: keep the secret with it.
    (this.instance.node.findChild('Secret') as secretsmanager.Secret).applyRemovalPolicy(
      props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    );
    // RDS would create these itself without retention; owning them sets it and keeps the
    // LogRetention custom resource (another Lambda) out of the stack.
    this.logGroups = Database.LOG_EXPORTS.map(
      (kind) =>
        new logs.LogGroup(this, `Logs-${kind}`, {
          logGroupName: `/aws/rds/instance/${props.instanceIdentifier}/${kind}`,
          retention: props.logRetention,
          removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        }),
    );
    for (const group of this.logGroups) this.instance.node.addDependency(group);
    this.port = 5432;

    if (config.proxy) {
      this.proxy = this.instance.addProxy('Proxy', {
        secrets: [this.secret],
        vpc: props.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [this.securityGroup],
        requireTLS: true,
        iamAuth: false,
        maxConnectionsPercent: 90,
        borrowTimeout: Duration.seconds(30),
        debugLogging: false,
      });
      // The proxy shares the database's group, so it must be allowed to reach the instance.
      this.securityGroup.addIngressRule(
        this.securityGroup,
        ec2.Port.tcp(this.port),
        'RDS Proxy to the instance',
      );
      this.securityGroup.addEgressRule(
        this.securityGroup,
        ec2.Port.tcp(this.port),
        'RDS Proxy to the instance',
      );
    }
    this.endpointHost = this.proxy ? this.proxy.endpoint : this.instance.instanceEndpoint.hostname;

    this.acknowledgeFindings(props);
  }

  /**
   * The grant of reading the credentials secret (a declared `secretsmanager:GetSecretValue`),
   * with the decryption of its KMS key through Secrets Manager only.
   */
  secretReadGrant(): ResourceGrant {
    return {
      resources: [this.secret.secretArn],
      companions: [
        {
          actions: ['kms:Decrypt'],
          resources: [this.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        },
      ],
    };
  }

  /**
   * Where a database Lambda connects (the contracts' shared connection variables): the instance,
   * not the proxy, since maintenance and reports must not take pooled connections the
   * application needs, and statistics are the instance's.
   */
  instanceConnection(): DbInspectValues {
    return {
      secretArn: this.secret.secretArn,
      databaseName: DATABASE_NAME,
      host: this.instance.instanceEndpoint.hostname,
      caCertificates: LAMBDA_RUNTIME_CA_BUNDLE,
    };
  }

  /** Lets `peer` (service tasks, batch tasks, database Lambdas) connect on the database port. */
  allowFrom(peer: ec2.IConnectable & IConstruct, description: string): void {
    allowIngress(this.securityGroup, peer, ec2.Port.tcp(this.port), description);
  }

  private acknowledgeFindings(props: DatabaseProps): void {
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'PostgreSQL listens on its default port 5432: the instance sits in isolated subnets and its security ' +
        'group admits only named application groups, so a non-default port would add no protection.',
    });
    Validations.of(this.instance.node.findChild('Secret')).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'ECS injects the password at task start, so automatic rotation would break running tasks. Rotation is ' +
        'the runbook procedure: rotate the secret, then force a new deployment of both colours.',
    });
    const monitoringRole = this.instance.node.tryFindChild('MonitoringRole');
    if (monitoringRole) {
      Validations.of(monitoringRole).acknowledge({
        id: nagManagedPolicy('AmazonRDSEnhancedMonitoringRole'),
        reason:
          'Enhanced Monitoring requires this AWS managed service-role policy; the role is assumable only by ' +
          'monitoring.rds.amazonaws.com and only publishes OS metrics to CloudWatch Logs.',
      });
    }
    if (!props.config.multiAz) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason:
          'Single-AZ is a cost choice of this non-production environment in config; prod is Multi-AZ and the ' +
          'config schema refuses a single-AZ prod.',
      });
    }
    if (!props.retainData) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'Dev databases are disposable by design (config retainData=false) so the stack can be torn down; ' +
          'staging and prod have deletion protection and snapshot-on-delete.',
      });
    }
  }
}
