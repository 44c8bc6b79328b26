import { Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of {@link BackupsBucket}. */
export interface BackupsBucketProps {
  /** The runbook's bucket name, made unique per environment, account and region. */
  readonly baseName: string;
  readonly envName: string;
  readonly encryptionKey: kms.IKey;
  readonly transitionToInfrequentAccessDays: number;
  readonly transitionToGlacierDays: number;
  readonly expireDays: number;
  /** Where S3 server access logs of the bucket go. */
  readonly serverAccessLogsBucket: s3.IBucket;
}

/**
 * The bucket for manual database dumps (the runbook's `s3://fa-ai-backups/db/`). Bucket
 * names are global, so the name is derived from the runbook's: `fa-ai-backups-<env>-<account>-<region>`.
 * Always retained: a dump is often the only copy that survives a mistake.
 */
export class BackupsBucket extends Construct {
  public readonly bucket: s3.Bucket;
  /**
   * The bucket's name from its parts (literal where the stack's account is, else with the
   * account pseudo parameter): another stack of the account can use it without an export.
   */
  public readonly bucketName: string;

  constructor(scope: Construct, id: string, props: BackupsBucketProps) {
    super(scope, id);
    this.bucketName = Fn.join('-', [
      props.baseName,
      props.envName,
      Stack.of(this).account,
      Stack.of(this).region,
    ]);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: this.bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: 'backups/',
      lifecycleRules: [
        {
          id: 'tier-and-expire-dumps',
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(props.transitionToInfrequentAccessDays),
            },
            {
              storageClass: s3.StorageClass.GLACIER,
              transitionAfter: Duration.days(props.transitionToGlacierDays),
            },
          ],
          expiration: Duration.days(props.expireDays),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
  }
}

/** Properties of {@link AccessLogsBucket}. */
export interface AccessLogsBucketProps {
  readonly retainData: boolean;
  /** @default 365 */
  readonly expireDays?: number;
}

/** Receives S3 server access logs of the environment's data buckets. */
export class AccessLogsBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      // Server access logging writes with SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !props.retainData,
      lifecycleRules: [{ expiration: Duration.days(props.expireDays ?? 365) }],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the server-access-log destination itself; logging it into itself would recurse.',
    });
  }
}
