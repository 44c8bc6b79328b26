import { Duration, type TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { dbMaintenanceContract } from '../../core/contracts/database';
import { DB_MAINTENANCE_CALLS } from '../../lambdas/db-maintenance/calls';
import { DB_MAINTENANCE_CRONS } from '../config/schedules';
import type { AppFunction } from './app-function';
import { addDatabaseFunction, type DatabaseFunctionPlacement } from './database-function';

/** Properties of {@link DbMaintenance}. */
export interface DbMaintenanceProps extends DatabaseFunctionPlacement {
  /** Time zone of the runbook's Sunday 3 AM. */
  readonly timeZone: TimeZone;
  /**
   * Age in days after which batch_audit rows move to batch_audit_archive (config
   * `database.archiveRetentionDays`).
   */
  readonly archiveRetentionDays: number;
}

/**
 * The runbook's database maintenance on schedules: weekly (Sunday 03:00) VACUUM ANALYZE and
 * a non-blocking reindex; monthly (first Sunday, 04:00, after the weekly run) ANALYZE and the
 * archive of batch_audit rows older than a year. Failed runs land in a dead-letter queue.
 */
export class DbMaintenance extends Construct {
  public readonly handler: AppFunction;
  public readonly weekly: scheduler.Schedule;
  public readonly monthly: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: DbMaintenanceProps) {
    super(scope, id);
    const { database } = props;

    this.handler = addDatabaseFunction(this, 'Handler', props, {
      contract: dbMaintenanceContract,
      description: 'Weekly VACUUM/REINDEX and monthly ANALYZE/archive of fa_ai_db (runbook maintenance)',
      calls: DB_MAINTENANCE_CALLS,
      admittedAs: 'Maintenance Lambda',
      timeout: Duration.minutes(15),
      retryAttempts: 1,
      deadLetterQueue: true,
      // Two runs at once would fight over the same locks.
      reservedConcurrentExecutions: 1,
      config: { ...database.instanceConnection(), archiveRetentionDays: props.archiveRetentionDays },
    });

    const target = (task: 'weekly' | 'monthly') =>
      this.handler.schedulerTarget({ task }, { retryAttempts: 2, maxEventAge: Duration.hours(2) });

    this.weekly = new scheduler.Schedule(this, 'Weekly', {
      description: 'Runbook weekly maintenance: VACUUM ANALYZE, REINDEX CONCURRENTLY (Sunday 03:00)',
      schedule: scheduler.ScheduleExpression.expression(DB_MAINTENANCE_CRONS.weekly, props.timeZone),
      target: target('weekly'),
    });
    this.monthly = new scheduler.Schedule(this, 'Monthly', {
      description: 'Runbook monthly maintenance: ANALYZE, archive batch_audit > 1 year (first Sunday 04:00)',
      schedule: scheduler.ScheduleExpression.expression(DB_MAINTENANCE_CRONS.monthly, props.timeZone),
      target: target('monthly'),
    });
  }
}
