import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { dbInspectContract } from '../../core/contracts/database';
import { DB_INSPECT_CALLS } from '../../lambdas/db-inspect/calls';
import type { AppFunction } from './app-function';
import { addDatabaseFunction, type DatabaseFunctionPlacement } from './database-function';

/** Properties of {@link DbInspect}. */
export type DbInspectProps = DatabaseFunctionPlacement;

/**
 * The runbook's database checks for operators without a network path to the database:
 * `ops db` invokes this function synchronously, and it runs fixed read-only reports
 * (lambdas/db-inspect) in the VPC, the same way the maintenance Lambda reaches the instance.
 */
export class DbInspect extends Construct {
  public readonly handler: AppFunction;

  constructor(scope: Construct, id: string, props: DbInspectProps) {
    super(scope, id);
    this.handler = addDatabaseFunction(this, 'Handler', props, {
      contract: dbInspectContract,
      description:
        'Read-only runbook checks of fa_ai_db for `ops db` (top queries, unused indexes, bloat, HNSW)',
      calls: DB_INSPECT_CALLS,
      admittedAs: 'Inspection Lambda (ops db)',
      // Connect (10 s) plus five statements of at most 10 s each, with room to spare.
      timeout: Duration.minutes(1),
      // Invoked synchronously: the caller sees a failure, an asynchronous retry would only repeat it.
      retryAttempts: 0,
      // A handful of operators; a loop calling it could not open more connections than this.
      reservedConcurrentExecutions: 2,
      config: props.database.instanceConnection(),
    });
  }
}
