import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
// A namespace import lets esbuild drop the parts of zod we do not use (450 KB -> 85 KB).
import * as z from 'zod';
import { lambdaClientFactory } from '../../core/aws-clients';
import type { FunctionEnv } from '../../core/contracts/contract';
import { dbMaintenanceContract } from '../../core/contracts/database';
import {
  MAINTENANCE_TASKS,
  MaintenanceError,
  type MaintenanceResult,
  type MaintenanceTask,
  runMonthlyMaintenance,
  runWeeklyMaintenance,
} from '../../core/db/maintenance';
import { parseInput } from '../../core/errors';
import { type ClosableSqlClient, type ConnectOptions, connectWithSecret } from '../shared/db';
import { lambdaEntryPoint, type Observability } from '../shared/handler';
import { createObservability, MetricUnit } from '../shared/observability';

export type { ClosableSqlClient };

/** The EventBridge Scheduler input: `{ "task": "weekly" }` or `{ "task": "monthly" }`. */
const eventSchema = z.object({ task: z.enum(MAINTENANCE_TASKS) });

export type { MaintenanceResult, MaintenanceTask } from '../../core/db/maintenance';

/** The environment the function reads (the variables of dbMaintenanceContract). */
export type MaintenanceEnv = FunctionEnv;

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export interface HandlerDeps {
  readonly secrets: SecretsManagerClient;
  /** @default connectWithSecret */
  readonly connect?: (secrets: SecretsManagerClient, options: ConnectOptions) => Promise<ClosableSqlClient>;
  readonly env: MaintenanceEnv;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default the module's Powertools logger and metrics */
  readonly observability?: Observability;
}

// A pooled-connection handshake through RDS Proxy takes well under a second; ten seconds
// covers a proxy borrowing a fresh connection from a cold database without letting an
// unreachable one eat the run.
const CONNECT_TIMEOUT_MS = 10_000;

// REINDEX CONCURRENTLY of a large table, or VACUUM after a big archive, legitimately runs for
// minutes, so the usual few-second limit would fail healthy runs. It still needs a limit:
// when Lambda's 15-minute maximum kills the function, the server keeps running the orphaned
// statement; 14 minutes lets PostgreSQL cancel it itself (releasing its locks) first.
const STATEMENT_TIMEOUT_MS = 14 * 60_000;

const defaultObservability = createObservability('db-maintenance');
// Module scope: reused across warm invocations (credentials, TLS sessions).
const secretsClient = lambdaClientFactory({ logger: defaultObservability.logger }).client(
  SecretsManagerClient,
);

/**
 * Runs the scheduled maintenance task named by the event. Validates the event and environment
 * before touching the database; closes the connection and publishes MaintenanceSucceeded or
 * MaintenanceFailed (dimension `task`) and ArchivedRows whatever happens; rethrows failures so
 * Lambda's asynchronous retries and the dead-letter queue see them.
 */
export async function handleEvent(event: unknown, deps: HandlerDeps): Promise<MaintenanceResult> {
  const { logger, metrics } = deps.observability ?? defaultObservability;
  let task: MaintenanceTask | 'unknown' = 'unknown';
  try {
    task = parseInput(
      eventSchema,
      event,
      'Invalid maintenance event (expected {"task":"weekly"|"monthly"})',
    ).task;
    const env = dbMaintenanceContract.parse(deps.env);
    const connect = deps.connect ?? connectWithSecret;
    const client = await connect(deps.secrets, {
      secretArn: env.secretArn,
      database: env.databaseName,
      host: env.host,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    });
    let result: MaintenanceResult;
    try {
      result =
        task === 'weekly'
          ? { task, report: await runWeeklyMaintenance(client, { logger }) }
          : {
              task,
              report: await runMonthlyMaintenance(client, {
                now: (deps.now ?? (() => new Date()))(),
                retentionDays: env.archiveRetentionDays,
                logger,
              }),
            };
    } finally {
      // A failed close must not replace the run's own outcome or error.
      await client
        .end()
        .catch((error: unknown) => logger.warn('Closing the database connection failed', { error }));
    }
    if (result.task === 'monthly')
      metrics.addMetric('ArchivedRows', MetricUnit.Count, result.report.archivedRows);
    metrics.addMetric('MaintenanceSucceeded', MetricUnit.Count, 1);
    logger.info('Database maintenance succeeded', { task, report: result.report });
    return result;
  } catch (error) {
    metrics.addMetric('MaintenanceFailed', MetricUnit.Count, 1);
    if (error instanceof MaintenanceError) {
      // Batches committed before the failure are archived for good; count them.
      const archived = 'archivedRows' in error.partialReport ? error.partialReport.archivedRows : undefined;
      if (archived) metrics.addMetric('ArchivedRows', MetricUnit.Count, archived);
      logger.error('Database maintenance failed', {
        task,
        step: error.step,
        table: error.table,
        failures: error.failures,
        partialReport: error.partialReport,
        error,
      });
    } else {
      logger.error('Database maintenance failed', { task, error });
    }
    throw error;
  } finally {
    // Dimensions are cleared by every publish, so the task is added per invocation.
    metrics.addDimension('task', task);
    metrics.publishStoredMetrics();
  }
}

/** The Lambda entry point (EventBridge Scheduler, asynchronous invocation). */
export const handler = lambdaEntryPoint(defaultObservability.logger, (event) =>
  handleEvent(event, { secrets: secretsClient, env: process.env }),
);
