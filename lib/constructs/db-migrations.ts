import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type CfnElement, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { dbMigrateContract, LAMBDA_RUNTIME_CA_BUNDLE } from '../../core/contracts/database';
import { DB_MIGRATE_CALLS } from '../../lambdas/db-migrate/calls';
import type { AppFunction } from './app-function';
import { DATABASE_NAME } from './database';
import { addDatabaseFunction, type DatabaseFunctionPlacement } from './database-function';
import { nagManagedPolicy } from './nag';

/** Folder of the versioned SQL migrations, relative to the project root. */
export const MIGRATIONS_DIR = 'lambdas/db-migrate/migrations';

/** sha256 over the migration files' names and contents: any edit changes it. */
export function migrationsChecksum(dir: string = path.join(__dirname, '..', '..', MIGRATIONS_DIR)): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(path.join(dir, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

/** Properties of {@link DbMigrations}. */
export interface DbMigrationsProps extends DatabaseFunctionPlacement {
  /** HNSW parameters of bluematrix_reports.embedding; a change rebuilds the index. */
  readonly hnsw: { readonly m: number; readonly efConstruction: number };
  /**
   * Extensions created before the migrations run.
   * @default ['vector', 'pg_stat_statements']
   */
  readonly extensions?: readonly string[];
}

/**
 * Applies the versioned SQL migrations at deploy time: a custom resource (Provider
 * framework) backed by a Lambda in the VPC with `pg`. It runs on create and whenever the
 * migration files or the HNSW parameters change; a delete never drops anything.
 */
export class DbMigrations extends Construct {
  public readonly handler: AppFunction;
  public readonly provider: cr.Provider;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: DbMigrationsProps) {
    super(scope, id);
    const { database } = props;

    this.handler = addDatabaseFunction(this, 'Handler', props, {
      contract: dbMigrateContract,
      description: 'Applies fa_ai_db schema migrations (CloudFormation custom resource)',
      calls: DB_MIGRATE_CALLS,
      admittedAs: 'Schema migrations Lambda',
      // Index builds on a large table take minutes; the Provider framework waits up to 1 h.
      timeout: Duration.minutes(10),
      memorySize: 512,
      retryAttempts: 0,
      copyDirectories: [MIGRATIONS_DIR],
      // Node 20+ runtimes do not load the RDS CAs unless told to; TLS is verified.
      config: { caCertificates: LAMBDA_RUNTIME_CA_BUNDLE },
    });

    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler.lambda,
      logGroup: providerLogs,
    });

    this.resource = new CustomResource(this, 'Schema', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::FaAiDatabaseSchema',
      properties: {
        SecretArn: database.secret.secretArn,
        DatabaseName: DATABASE_NAME,
        DatabaseHost: database.instance.instanceEndpoint.hostname,
        Extensions: [...(props.extensions ?? ['vector', 'pg_stat_statements'])],
        HnswM: props.hnsw.m,
        HnswEfConstruction: props.hnsw.efConstruction,
        MigrationsChecksum: migrationsChecksum(),
      },
    });
    this.resource.node.addDependency(database.instance);

    acknowledgeProviderFramework(this.provider);
  }
}

/** cdk-nag findings on CDK's own Provider framework function, with reasons. */
function acknowledgeProviderFramework(provider: cr.Provider): void {
  const framework = provider.node.tryFindChild('framework-onEvent');
  if (!framework) return;
  const stack = Stack.of(provider);
  Validations.of(framework).acknowledge({
    id: nagManagedPolicy('AWSLambdaBasicExecutionRole'),
    reason:
      "CDK's Provider framework function: the managed basic execution role only lets it write its own logs; " +
      'its other permission is invoking our handler.',
  });
  Validations.of(framework).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(provider.onEventHandler.node.defaultChild as CfnElement)}.Arn>:*]`,
    reason:
      "CDK's Provider framework grants itself lambda:InvokeFunction on every version of our handler (ARN:*); " +
      'it is scoped to that one function.',
  });
  Validations.of(framework).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      "The Provider framework function's runtime is chosen by aws-cdk-lib, not by this project; it is " +
      'upgraded with aws-cdk-lib.',
  });
}
