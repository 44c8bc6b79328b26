import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { OPS_TABLE_KEYS } from '../../core/ops-table/keys';

/** Properties of {@link OpsTable}. */
export interface OpsTableProps {
  /** Deletion protection and retain-on-delete (staging and prod). */
  readonly retainData: boolean;
}

/**
 * The automation's own records, in one table keyed pk/sk: the audit trail (pk AUDIT), the
 * kill switch state (pk KILL_SWITCH), batch runs written by Step Functions (pk BATCH_RUN),
 * and short-lived idempotency and rate-limit items that expire through `expiresAt`.
 */
export class OpsTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: OpsTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: OPS_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: OPS_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: OPS_TABLE_KEYS.timeToLive,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.retainData,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
