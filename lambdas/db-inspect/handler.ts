import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FunctionEnv } from '../../core/contracts/contract';
import { dbInspectContract } from '../../core/contracts/database';
import { type InspectResult, inspectEventSchema } from '../../core/db/inspect';
import { type ClosableSqlClient, type ConnectOptions, connectWithSecret } from '../shared/db';
import { defineLambda, type Observability } from '../shared/handler';
import { MetricUnit } from '../shared/observability';
import { DEFAULT_STATEMENT_TIMEOUT_MS, runInspection } from './reports';

export type { ClosableSqlClient };

/** What {@link handleEvent} needs from the outside; tests inject all of it. */
export interface HandlerDeps {
  readonly secrets: SecretsManagerClient;
  /** @default connectWithSecret */
  readonly connect?: (secrets: SecretsManagerClient, options: ConnectOptions) => Promise<ClosableSqlClient>;
  /** The function's environment (the variables of dbInspectContract). */
  readonly env: FunctionEnv;
  /** @default the module's Powertools logger and metrics */
  readonly observability?: Observability;
}

// The operator waits on a synchronous invocation: an unreachable database must fail fast.
const CONNECT_TIMEOUT_MS = 10_000;

const lambda = defineLambda({
  service: 'db-inspect',
  event: {
    schema: inspectEventSchema,
    invalid:
      'Invalid inspection event (expected {"reports":["queries"|"unused-indexes"|"tables"|"hnsw", ...],"limit"?:1..100})',
  },
  // Reused across warm invocations: credentials, TLS sessions.
  clients: (aws): SecretsManagerClient => aws.client(SecretsManagerClient),
  deps: (secrets): HandlerDeps => ({ secrets, env: process.env }),
  failure: () => ({ metrics: ['InspectionFailed'], message: 'Database inspection failed' }),
  run: async (request, deps: HandlerDeps, { logger, metrics }): Promise<InspectResult> => {
    const env = dbInspectContract.parse(deps.env);
    const client = await (deps.connect ?? connectWithSecret)(deps.secrets, {
      secretArn: env.secretArn,
      database: env.databaseName,
      host: env.host,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      // The session's limit too, in case a statement ever runs outside the reports' transactions.
      statementTimeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS,
    });
    let result: InspectResult;
    try {
      result = await runInspection(client, request);
    } finally {
      await client
        .end()
        .catch((error: unknown) => logger.warn('Closing the database connection failed', { error }));
    }
    const failed = Object.values(result.reports).filter((r) => r.status === 'failed').length;
    metrics.addMetric(failed > 0 ? 'InspectionPartlyFailed' : 'InspectionSucceeded', MetricUnit.Count, 1);
    logger.info('Database inspection done', {
      reports: Object.fromEntries(Object.entries(result.reports).map(([k, r]) => [k, r.status])),
    });
    return result;
  },
});

/**
 * Runs the reports the event names (`ops db`, invoked synchronously) and returns them. The
 * event is checked before anything is read; every report runs in a read-only transaction
 * with a statement timeout. A report that fails is reported in the result (the others still
 * run); a connection that cannot be made fails the invocation.
 */
export const handleEvent = lambda.handleEvent;

/** The Lambda entry point (synchronous invocation by the ops CLI). */
export const handler = lambda.handler;
