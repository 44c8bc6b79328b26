/**
 * `ops db`: the CLI against the real Lambdas' handlers. The mocked Lambda service runs the
 * db-inspect and db-maintenance handlers themselves on a PGlite database with the real schema,
 * so the command line, the invocation contract and the SQL are tested together.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
// What the SDK deserializes an invocation's Payload into.
import { Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  dbInspectContract,
  dbMaintenanceContract,
  LAMBDA_RUNTIME_CA_BUNDLE,
} from '../../core/contracts/database';
import * as inspect from '../../lambdas/db-inspect/handler';
import * as maintenance from '../../lambdas/db-maintenance/handler';
import { OPS_CLI_CALLS } from '../../lib/ops/calls';
import { awsError } from '../helpers/aws';
import { testClient } from '../helpers/aws-clients';
import { createMigratedDatabase, type TestDatabase } from '../helpers/pglite';
import { checkSentAgainst } from '../iam/declared-calls';
import {
  cliMocks,
  INSPECT_FUNCTION,
  MAINTENANCE_FUNCTION,
  MANIFEST,
  manifestOutputs,
  resetCli,
  runOps,
  stack,
} from './harness';

checkSentAgainst(OPS_CLI_CALLS, 'lib/ops/calls.ts');

const PROD = ['--env', 'prod'];
/** Where both functions connect, as the stack sets it (the contracts' serializers). */
const CONNECTION = {
  secretArn: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:db-AbCdEf',
  databaseName: 'fa_ai_db',
  host: 'fa-ai-system-db.abc123.us-east-1.rds.amazonaws.com',
  caCertificates: LAMBDA_RUNTIME_CA_BUNDLE,
} as const;
const INSPECT_ENV = dbInspectContract.serialize(CONNECTION);
const MAINTENANCE_ENV = dbMaintenanceContract.serialize({ ...CONNECTION, archiveRetentionDays: 365 });

let db: TestDatabase;
/** The events the functions received, by function name. */
let invoked: Array<{ fn: string; event: unknown }>;

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.client.end();
});

/** The shared database as the handlers' connection (no secret read: that is the Lambda's call, not the CLI's). */
const connect = async (): Promise<inspect.ClosableSqlClient> => ({
  query: (text, params) => db.client.query(text, params),
  end: async () => undefined,
});

const observability = (serviceName: string) => ({
  logger: new Logger({ serviceName, logLevel: 'SILENT' }),
  metrics: new Metrics({ namespace: 'Test/Automation', serviceName }),
});

/** An invocation's Payload: `value` as JSON. */
const blob = (value: unknown) => Uint8ArrayBlobAdapter.fromString(JSON.stringify(value));

/** What Lambda answers a RequestResponse invocation: the handler's result, or its error as FunctionError. */
async function lambdaService(input: InvokeCommandInput) {
  const event = JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array));
  invoked.push({ fn: String(input.FunctionName), event });
  const secrets = testClient(SecretsManagerClient, { region: 'us-east-1' });
  try {
    const result =
      input.FunctionName === INSPECT_FUNCTION
        ? await inspect.handleEvent(event, {
            secrets,
            env: INSPECT_ENV,
            connect,
            observability: observability('db-inspect'),
          })
        : await maintenance.handleEvent(event, {
            secrets,
            env: MAINTENANCE_ENV,
            connect,
            observability: observability('db-maintenance'),
          });
    return {
      StatusCode: 200,
      ExecutedVersion: '$LATEST',
      Payload: new TextEncoder().encode(JSON.stringify(result)),
    };
  } catch (error) {
    const e = error as Error;
    const payload = { errorType: e.name, errorMessage: e.message, trace: [] };
    return {
      StatusCode: 200,
      FunctionError: 'Unhandled',
      ExecutedVersion: '$LATEST',
      Payload: blob(payload),
    };
  }
}

beforeEach(async () => {
  await resetCli();
  invoked = [];
  cliMocks.lambda.on(InvokeCommand).callsFake(lambdaService);
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  await db.client.query('DROP VIEW IF EXISTS pg_stat_statements');
});

describe('db (the reports)', () => {
  it('runs the four reports in the inspection Lambda and prints them; pg_stat_statements missing is UNAVAILABLE (exit 1)', async () => {
    const run = await runOps(['db', ...PROD]);

    expect(invoked).toEqual([
      {
        fn: INSPECT_FUNCTION,
        event: { reports: ['queries', 'unused-indexes', 'tables', 'hnsw'], limit: 20 },
      },
    ]);
    expect(cliMocks.lambda).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: INSPECT_FUNCTION,
      InvocationType: 'RequestResponse',
    });
    expect(run.stdout).toMatch(/Database postgres \(prod, PostgreSQL 1\d/);
    expect(run.stdout).toContain('Slowest statements (pg_stat_statements, mean time), at most 20:');
    expect(run.stdout).toContain('UNAVAILABLE: pg_stat_statements is not installed in this database');
    expect(run.stdout).toMatch(/idx_citations_summary\s+public\.citations\s+\S+ \S+\s+CREATE INDEX/);
    expect(run.stdout).toMatch(/table\s+size\s+live\s+dead\s+dead %\s+last vacuum/);
    expect(run.stdout).toContain(
      'CREATE INDEX idx_bluematrix_embedding ON public.bluematrix_reports USING hnsw',
    );
    expect(run.stdout).toMatch(/last build\s+created \d{4}-\d\d-\d\d .* \(m=16,ef_construction=200\)/);
    expect(run.code).toBe(1);
  });

  it('exits 0 when every report ran, the statements slowest first', async () => {
    await db.client.query(`
      CREATE VIEW pg_stat_statements AS
      SELECT (SELECT oid FROM pg_database WHERE datname = current_database()) AS dbid, v.*
        FROM (VALUES ('SELECT * FROM citations WHERE summary_id = $1', 12::bigint, 4.5::float8, 54::float8, 12::bigint),
                     ('SELECT   embedding <=> $1\n  FROM bluematrix_reports', 3::bigint, 310::float8, 930::float8, 30::bigint))
             AS v(query, calls, mean_exec_time, total_exec_time, rows)`);
    const run = await runOps(['db', ...PROD]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const slow = lines.findIndex((l) => l.includes('SELECT embedding <=> $1 FROM bluematrix_reports'));
    const fast = lines.findIndex((l) => l.includes('SELECT * FROM citations'));
    expect(slow).toBeGreaterThan(0);
    expect(fast).toBeGreaterThan(slow);
    expect(lines[slow]).toMatch(/^\s+310\s+3\s+930\s+30\s+SELECT/);
  });

  it('db queries --limit 5 --json: one report, the limit passed, the Lambda result as JSON', async () => {
    const run = await runOps(['db', 'queries', ...PROD, '--limit', '5', '--json']);
    expect(invoked[0]?.event).toEqual({ reports: ['queries'], limit: 5 });
    const data = JSON.parse(run.stdout);
    expect(data).toMatchObject({
      database: 'postgres',
      limit: 5,
      reports: { queries: { status: 'unavailable', reason: expect.stringContaining('not installed') } },
    });
    expect(Object.keys(data.reports)).toEqual(['queries']);
  });

  it('db tables shows the dead tuples of the bloat check', async () => {
    await db.client.query(`
      INSERT INTO batch_audit (event, status) SELECT 'e', 'ok' FROM generate_series(1, 40);
      DELETE FROM batch_audit WHERE id % 2 = 0;
      SELECT pg_stat_force_next_flush();`);
    try {
      const run = await runOps(['db', 'tables', ...PROD, '--limit', '100']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/batch_audit\s+\S+ \S+\s+20\s+20\s+50\.0/);
    } finally {
      await db.client.query('TRUNCATE batch_audit');
    }
  });

  it.each([
    [['db', 'indexes'], 'unused-indexes'],
    [['db', 'hnsw'], 'hnsw'],
  ])('%j runs the %s report only', async (argv, report) => {
    const run = await runOps([...argv, ...PROD]);
    expect(run.code).toBe(0);
    expect(invoked.map((i) => (i.event as { reports: string[] }).reports)).toEqual([[report]]);
  });

  it('exits 1 with the function error when the Lambda fails', async () => {
    cliMocks.lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: blob({
        errorType: 'DependencyUnavailableError',
        errorMessage:
          'Cannot connect to fa-ai-system-db.abc.us-east-1.rds.amazonaws.com:5432/fa_ai_db: timeout',
      }),
    });
    const run = await runOps(['db', 'hnsw', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${INSPECT_FUNCTION} failed: DependencyUnavailableError: Cannot connect to`);
  });

  it('retries a throttled invocation', async () => {
    cliMocks.lambda
      .on(InvokeCommand)
      .rejectsOnce(awsError('TooManyRequestsException', 'Rate exceeded', 429))
      .callsFake(lambdaService);
    const run = await runOps(['db', 'hnsw', ...PROD]);
    expect(run.code).toBe(0);
    expect(cliMocks.lambda).toHaveReceivedCommandTimes(InvokeCommand, 2);
  });

  it.each([
    [['db', ...PROD, '--sql', 'DROP TABLE citations'], "Unknown option '--sql'"],
    [['db', 'queries', ...PROD, '--limit', '500'], '--limit 500: expected a whole number 1..100'],
    [['db', 'hnsw', ...PROD, '--limit', '5'], 'Option --limit does not apply to db hnsw'],
    [['db', 'vacuum', ...PROD], 'Unexpected argument(s) for db: vacuum'],
    [['db', 'maintain', ...PROD, '--yes=no'], "--yes takes no value (given 'no')"],
  ])('refuses %j (exit 2) naming the problem, calling nothing', async (argv, message) => {
    const run = await runOps(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(cliMocks.cloudformation).not.toHaveReceivedCommand(DescribeStacksCommand);
    expect(invoked).toEqual([]);
  });

  it('says to redeploy when the stack predates ops db (no database section in the manifest)', async () => {
    // Deployed before ops db: no OpsManifestDatabase output.
    cliMocks.cloudformation
      .on(DescribeStacksCommand)
      .resolves(stack(manifestOutputs({ ...MANIFEST, database: undefined, backup: undefined })));
    const run = await runOps(['db', ...PROD]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('db needs the database section of the OpsManifestDatabase output');
    expect(run.stderr).toContain('redeploy it');
    expect(invoked).toEqual([]);
  });
});

describe('db maintain', () => {
  it('without a terminal and without --yes: says what it would do, refuses (exit 2), invokes nothing', async () => {
    const run = await runOps(['db', 'maintain', ...PROD]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('This runs the weekly maintenance of fa_ai_db in prod now');
    expect(run.stdout).toContain(
      'VACUUM (ANALYZE) and REINDEX TABLE CONCURRENTLY of stock_summaries, citations',
    );
    expect(run.stdout).toContain(`Lambda ${MAINTENANCE_FUNCTION}, event {"task":"weekly"}`);
    expect(run.stderr).toContain('Not run: stdin is not a terminal; pass --yes to confirm the above');
    expect(cliMocks.lambda).not.toHaveReceivedCommand(InvokeCommand);
  });

  it('--yes: runs the weekly maintenance in its Lambda and prints what it did', async () => {
    const run = await runOps(['db', 'maintain', ...PROD, '--yes']);
    expect(run.code).toBe(0);
    expect(invoked).toEqual([{ fn: MAINTENANCE_FUNCTION, event: { task: 'weekly' } }]);
    expect(run.stdout).toContain('Weekly maintenance done (prod).');
    expect(run.stdout).toContain(
      'Vacuumed and analyzed: stock_summaries, citations, bluematrix_reports, batch_audit, source_documents, batch_runs',
    );
    expect(run.stdout).toContain('Reindexed concurrently: stock_summaries, citations');
    expect(run.stdout).toMatch(/Table sizes:\n\s+\w+\s+\d+ (bytes|kB)/);
  });

  it('asks at a terminal: "n" changes nothing (exit 2), "y" runs it', async () => {
    const questions: string[] = [];
    const no = await runOps(['db', 'maintain', ...PROD], {
      prompt: async (q) => {
        questions.push(q);
        return 'n';
      },
    });
    expect(no.code).toBe(2);
    expect(no.stderr).toContain('Not run: not confirmed (nothing changed)');
    expect(questions).toEqual(['Proceed? [y/N] ']);
    expect(cliMocks.lambda).not.toHaveReceivedCommand(InvokeCommand);

    const yes = await runOps(['db', 'maintain', ...PROD], { prompt: async () => 'y' });
    expect(yes.code).toBe(0);
    expect(invoked).toHaveLength(1);
  });

  it('refuses (exit 2) while a run is in progress: the function runs one at a time', async () => {
    cliMocks.lambda.on(InvokeCommand).rejects(
      Object.assign(awsError('TooManyRequestsException', 'Rate Exceeded.', 429), {
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      }),
    );
    const run = await runOps(['db', 'maintain', ...PROD, '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('A maintenance run is in progress');
    // Not retried: the running one would refuse every attempt.
    expect(cliMocks.lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  it('a lost connection is not retried (the run may go on) and says where to look', async () => {
    cliMocks.lambda
      .on(InvokeCommand)
      .rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }));
    const run = await runOps(['db', 'maintain', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the maintenance may still be running: see its log group');
    expect(cliMocks.lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  it('a throttled invocation is sent once too: its client makes one attempt (a run is not idempotent)', async () => {
    cliMocks.lambda.on(InvokeCommand).rejects(awsError('TooManyRequestsException', 'Rate Exceeded.', 429));
    const run = await runOps(['db', 'maintain', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Rate Exceeded.');
    expect(cliMocks.lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  it('exits 1 with the maintenance error when a step failed', async () => {
    cliMocks.lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: blob({
        errorType: 'MaintenanceError',
        errorMessage:
          'weekly maintenance failed in 1 step(s): reindex of citations: canceling statement due to statement timeout',
      }),
    });
    const run = await runOps(['db', 'maintain', ...PROD, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `${MAINTENANCE_FUNCTION} failed: MaintenanceError: weekly maintenance failed`,
    );
  });
});
