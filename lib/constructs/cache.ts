import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import type { CacheConfig } from '../config';
import { allowIngress } from './security-group-access';

/** Properties of {@link Cache}. */
export interface CacheProps {
  readonly vpc: ec2.IVpc;
  readonly config: CacheConfig;
  /** Replication group id, e.g. fa-ai-system-cache(-env). At most 40 characters. */
  readonly replicationGroupId: string;
  /** Name of the AUTH token secret. */
  readonly secretName: string;
  /** Encrypts data at rest and the AUTH token secret. */
  readonly encryptionKey: kms.IKey;
  /** Snapshot on delete and retain the token (staging and prod). */
  readonly retainData: boolean;
}

/**
 * The embedding cache: an ElastiCache replication group on the Valkey engine (Redis OSS
 * compatible, so redis-py works unchanged, and about 20% cheaper per node than Redis OSS).
 * TLS in transit with an AUTH token from Secrets Manager, KMS at rest, `allkeys-lru` so a
 * full cache evicts the least recently used embeddings instead of failing writes.
 */
export class Cache extends Construct {
  static readonly ENGINE_VERSION = '8.0';
  static readonly PORT = 6379;

  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** The replication group's id (a plain string, known at synth). */
  public readonly replicationGroupId: string;
  public readonly authToken: secretsmanager.Secret;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly parameterGroup: elasticache.CfnParameterGroup;
  public readonly subnetGroup: elasticache.CfnSubnetGroup;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    const { config } = props;
    this.replicationGroupId = props.replicationGroupId;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'FA AI System embedding cache: only service and batch tasks',
      allowAllOutbound: false,
    });

    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      secretName: props.secretName,
      description: 'AUTH token of the FA AI System embedding cache',
      encryptionKey: props.encryptionKey,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      // ElastiCache tokens: 16-128 printable characters, none of @ " / or space.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    this.subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: 'Isolated subnets of the FA AI System cache',
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });

    this.parameterGroup = new elasticache.CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: 'valkey8',
      description: 'Embedding cache: evict least recently used keys when full',
      properties: { 'maxmemory-policy': 'allkeys-lru' },
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupId: props.replicationGroupId,
      replicationGroupDescription: 'FA AI System embedding cache',
      engine: 'valkey',
      engineVersion: Cache.ENGINE_VERSION,
      cacheNodeType: config.nodeType,
      numCacheClusters: 1 + config.replicas,
      automaticFailoverEnabled: config.multiAz,
      multiAzEnabled: config.multiAz,
      port: Cache.PORT,
      cacheSubnetGroupName: this.subnetGroup.ref,
      cacheParameterGroupName: this.parameterGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      atRestEncryptionEnabled: true,
      kmsKeyId: props.encryptionKey.keyArn,
      snapshotRetentionLimit: config.snapshotRetentionDays,
      snapshotWindow: '06:30-07:30',
      preferredMaintenanceWindow: 'sun:08:30-sun:09:30',
      autoMinorVersionUpgrade: true,
    });
    // Keep a final snapshot (and the group) rather than lose the cache with the stack.
    this.replicationGroup.applyRemovalPolicy(
      props.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    );

    this.acknowledgeFindings(props);
  }

  /** The primary endpoint (TLS). */
  get endpointHost(): string {
    return this.replicationGroup.attrPrimaryEndPointAddress;
  }

  /** Lets `peer` (service and batch tasks) connect on the cache port. */
  allowFrom(peer: ec2.IConnectable & IConstruct, description: string): void {
    allowIngress(this.securityGroup, peer, ec2.Port.tcp(Cache.PORT), description);
  }

  private acknowledgeFindings(props: CacheProps): void {
    Validations.of(this.replicationGroup).acknowledge({
      id: 'AwsSolutions-AEC5',
      reason:
        'The cache listens on the default port 6379: it sits in isolated subnets behind a security group that ' +
        'admits only the application groups, and requires TLS plus an AUTH token.',
    });
    Validations.of(this.authToken).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An ElastiCache AUTH token rotation needs a coordinated ROTATE then SET strategy with task restarts; ' +
        'it is a runbook procedure, not an automatic rotation that would cut running tasks off.',
    });
    if (!props.config.multiAz) {
      Validations.of(this.replicationGroup).acknowledge({
        id: 'AwsSolutions-AEC4',
        reason:
          'One node is a cost choice in config (prod included, to fit its $200 infrastructure budget): the cache ' +
          'only holds embeddings that are recomputed on a miss. A replica with failover is one config line.',
      });
    }
  }
}
