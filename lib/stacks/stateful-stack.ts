import { Duration, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import { AdminKeySecrets } from '../constructs/admin-key-secrets';
import { ApiKeySecrets } from '../constructs/api-key-secrets';
import { AccessLogsBucket, BackupsBucket } from '../constructs/backups-bucket';
import { Cache } from '../constructs/cache';
import { Database } from '../constructs/database';
import type { DatabaseFunctionPlacement } from '../constructs/database-function';
import { DbMaintenance } from '../constructs/db-maintenance';
import { DbMigrations } from '../constructs/db-migrations';
import { ImageRepository } from '../constructs/image-repository';
import { Network } from '../constructs/network';
import { OpsTable } from '../constructs/ops-table';
import { SeededParameter } from '../constructs/seeded-parameter';
import { TrafficWeightsStore } from '../constructs/traffic-weights';
import { batchScheduleStateParameterName, SYSTEM_NAME, trafficWeightsParameterName } from '../naming';
import { environmentSettings } from './environment-settings';

/** Properties of {@link StatefulStack}. */
export interface StatefulStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * What an environment keeps across deploys: network, image repository, live traffic
 * weights, the database (with its migrations and maintenance), the cache, secrets and the
 * backups bucket. Changed rarely, deployed first.
 * Construct ids here are pinned: renaming one replaces a stateful resource and loses data.
 */
export class StatefulStack extends Stack {
  public readonly network: Network;
  public readonly vpc: ec2.Vpc;
  public readonly repository: ecr.Repository;
  public readonly trafficWeights: TrafficWeightsStore;
  /** ENABLED or DISABLED: owned by the kill switch and `batch enable` once seeded. */
  public readonly batchScheduleState: SeededParameter;
  /** Audit trail, kill switch state and batch run records. */
  public readonly opsTable: OpsTable;
  /** Encrypts the database, cache, secrets and backups. */
  public readonly dataKey: kms.Key;
  public readonly database: Database;
  /** Where the Lambdas that connect to the database run and log, in either stack. */
  public readonly databaseFunctions: DatabaseFunctionPlacement;
  public readonly migrations: DbMigrations;
  public readonly maintenance: DbMaintenance;
  public readonly cache: Cache;
  public readonly apiKeys: ApiKeySecrets;
  /** The providers' admin keys, read only by the daily spend reconciliation. */
  public readonly adminKeys: AdminKeySecrets;
  public readonly backups: BackupsBucket;
  public readonly accessLogs: AccessLogsBucket;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { retainData, removalPolicy, logRetention, functionLogs, name } = environmentSettings(config);

    this.network = new Network(this, 'Network', {
      maxAzs: config.network.maxAzs,
      natGateways: config.network.natGateways,
      natProvider: config.network.natProvider,
      flowLogRetentionDays: config.network.flowLogRetentionDays,
      removalPolicy,
    });
    this.vpc = this.network.vpc;

    this.repository = new ImageRepository(this, 'ImageRepository', {
      repositoryName: config.service.imageRepositoryName,
    }).repository;

    this.trafficWeights = new TrafficWeightsStore(this, 'TrafficWeights', {
      parameterName: trafficWeightsParameterName(config.envName),
      initialBlueWeight: config.traffic.blueWeight,
      initialGreenWeight: config.traffic.greenWeight,
    });

    this.batchScheduleState = new SeededParameter(this, 'BatchScheduleState', {
      parameterName: batchScheduleStateParameterName(config.envName),
      type: 'String',
      initialValue: 'ENABLED',
      description:
        'State of the weekly batch schedule. Written by the budget kill switch and `ops batch enable`.',
    });
    this.opsTable = new OpsTable(this, 'OpsTable', { retainData });

    this.dataKey = new kms.Key(this, 'DataKey', {
      alias: `alias/${SYSTEM_NAME}/${config.envName}/data`,
      description: `FA AI System ${config.envName}: database, cache, secrets and backups`,
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(retainData ? 30 : 7),
    });

    this.database = new Database(this, 'Database', {
      vpc: this.vpc,
      config: config.database,
      instanceIdentifier: name(`${SYSTEM_NAME}-db`),
      secretName: `${SYSTEM_NAME}/${config.envName}/db/master`,
      encryptionKey: this.dataKey,
      retainData,
      logRetention,
    });

    this.databaseFunctions = { vpc: this.vpc, database: this.database, ...functionLogs };

    this.migrations = new DbMigrations(this, 'DatabaseMigrations', {
      ...this.databaseFunctions,
      hnsw: config.database.hnsw,
    });

    this.maintenance = new DbMaintenance(this, 'DatabaseMaintenance', {
      ...this.databaseFunctions,
      timeZone: TimeZone.of(config.timeZone),
      archiveRetentionDays: config.database.archiveRetentionDays,
    });

    this.cache = new Cache(this, 'Cache', {
      vpc: this.vpc,
      config: config.cache,
      replicationGroupId: name(`${SYSTEM_NAME}-cache`),
      secretName: `${SYSTEM_NAME}/${config.envName}/cache/auth-token`,
      encryptionKey: this.dataKey,
      retainData,
    });

    this.apiKeys = new ApiKeySecrets(this, 'ApiKeys', {
      namePrefix: `${SYSTEM_NAME}/${config.envName}`,
      encryptionKey: this.dataKey,
      retainData,
    });

    this.adminKeys = new AdminKeySecrets(this, 'ProviderAdminKeys', {
      namePrefix: `${SYSTEM_NAME}/${config.envName}`,
      encryptionKey: this.dataKey,
      retainData,
    });

    this.accessLogs = new AccessLogsBucket(this, 'AccessLogs', { retainData });
    this.backups = new BackupsBucket(this, 'Backups', {
      baseName: 'fa-ai-backups',
      envName: config.envName,
      encryptionKey: this.dataKey,
      serverAccessLogsBucket: this.accessLogs.bucket,
      ...config.backups,
    });
  }
}
