import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
// A namespace import lets esbuild drop the parts of zod we do not use (450 KB -> 85 KB).
import * as z from 'zod';
import { lambdaClientFactory } from '../../core/aws-clients';
import type { FunctionEnv } from '../../core/contracts/contract';
import { dbMigrateContract } from '../../core/contracts/database';
import { parseInput } from '../../core/errors';
import { type ConnectOptions, connectWithSecret, type SqlClient } from '../shared/db';
import { createObservability, type Logger, type Metrics, MetricUnit } from '../shared/observability';
import {
  applyMigrations,
  loadMigrations,
  type MigrationResult,
  migrationsChecksum,
  validateApplyOptions,
} from './logic';

/** The custom resource's physical id: one schema per database, never replaced. */
export const PHYSICAL_RESOURCE_ID = 'fa-ai-db-schema';

/** CloudFormation stringifies numbers in custom resource properties; accept both forms. */
const integerProperty = z.preprocess(
  (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
  z.number().int(),
);

const requestSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  PhysicalResourceId: z.string().min(1).optional(),
});

/** ResourceProperties of the custom resource (ServiceToken and unknown keys are ignored). */
const propertiesSchema = z.object({
  SecretArn: z.string().min(1),
  DatabaseName: z.string().min(1),
  /** An RDS Proxy endpoint; without it, the secret's host. */
  DatabaseHost: z.string().min(1).optional(),
  Extensions: z.array(z.string()),
  HnswM: integerProperty,
  HnswEfConstruction: integerProperty,
  /** Only there to make CloudFormation send an Update when the migration files change. */
  MigrationsChecksum: z.string().optional(),
});

/** The parsed ResourceProperties. */
export type SchemaResourceProperties = z.infer<typeof propertiesSchema>;

/** What the Provider framework's onEvent handler returns. */
export interface OnEventResponse {
  PhysicalResourceId: string;
  Data?: { Applied: string; HnswIndex: string };
}

/** A connected client the handler ends when done. */
export type MigrationClient = SqlClient & { end(): Promise<void> };

/** What handleEvent needs; tests inject a PGlite-backed connect. */
export interface HandlerDeps {
  readonly secrets: SecretsManagerClient;
  /** The function's environment (the variables of dbMigrateContract). */
  readonly env: FunctionEnv;
  readonly migrationsDir: string;
  /** @default connectWithSecret */
  readonly connect?: (secrets: SecretsManagerClient, options: ConnectOptions) => Promise<MigrationClient>;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

const observability = createObservability('db-migrate');

/**
 * Handles one CloudFormation custom resource event. Delete does nothing (the schema outlives
 * the stack); Create and Update apply the migrations and keep the HNSW index. Throws
 * InvalidInputError naming the field for a malformed event, before connecting.
 */
export async function handleEvent(event: unknown, deps: HandlerDeps): Promise<OnEventResponse> {
  const logger = deps.logger ?? observability.logger;
  const metrics = deps.metrics ?? observability.metrics;

  const request = parseInput(requestSchema, event, 'Malformed custom resource event');
  if (request.RequestType === 'Delete') {
    // Properties are not even parsed: a Delete that fails (say, rolling back a Create with bad
    // properties) would leave the stack in DELETE_FAILED over a resource that owns nothing.
    logger.info('Delete: the schema is kept');
    return { PhysicalResourceId: request.PhysicalResourceId ?? PHYSICAL_RESOURCE_ID };
  }

  const props = parseInput(
    z.object({ ResourceProperties: propertiesSchema }),
    event,
    'Malformed custom resource event',
  ).ResourceProperties;
  dbMigrateContract.parse(deps.env);
  const options = {
    extensions: props.Extensions,
    hnsw: { m: props.HnswM, efConstruction: props.HnswEfConstruction },
  };
  validateApplyOptions(options);
  const migrations = loadMigrations(deps.migrationsDir);
  const bundledChecksum = migrationsChecksum(migrations);
  logger.info('Migrating', {
    requestType: request.RequestType,
    migrations: migrations.map((m) => m.file),
    bundledChecksum,
    requestedChecksum: props.MigrationsChecksum,
  });
  if (props.MigrationsChecksum !== undefined && props.MigrationsChecksum !== bundledChecksum) {
    // Informational only: the files in the bundle are what gets applied and verified.
    logger.warn(
      'MigrationsChecksum differs from the bundled migrations: was the bundle built from other files?',
    );
  }

  try {
    const client = await (deps.connect ?? connectWithSecret)(deps.secrets, {
      secretArn: props.SecretArn,
      database: props.DatabaseName,
      host: props.DatabaseHost,
      // Under the Lambda's 10 minutes, so a statement stuck on a lock fails with a clear
      // PostgreSQL error (and releases the advisory lock) instead of a Lambda timeout.
      statementTimeoutMs: 9 * 60_000,
    });
    let result: MigrationResult;
    try {
      result = await applyMigrations(client, migrations, { ...options, logger });
    } finally {
      await client.end().catch((error: unknown) => logger.warn('Cannot close the connection', { error }));
    }
    metrics.addMetric('MigrationsApplied', MetricUnit.Count, result.applied.length);
    logger.info('Migrated', { ...result });
    return {
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Applied: String(result.applied.length), HnswIndex: result.hnswIndex },
    };
  } catch (error) {
    metrics.addMetric('MigrationRunsFailed', MetricUnit.Count, 1);
    logger.error('Migration run failed', { error });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}

// Built once per execution environment, reused across invocations.
const secrets = lambdaClientFactory({ logger: observability.logger }).client(SecretsManagerClient);
// The bundling step copies migrations/ next to the bundle.
const migrationsDir = process.env.MIGRATIONS_DIR ?? join(__dirname, 'migrations');

/** The Provider framework's onEvent handler. */
export const handler = (event: unknown): Promise<OnEventResponse> =>
  handleEvent(event, {
    secrets,
    env: process.env,
    migrationsDir,
    logger: observability.logger,
    metrics: observability.metrics,
  });
