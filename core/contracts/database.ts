/**
 * The database Lambdas' configuration (lambdas/db-maintenance, lambdas/db-migrate,
 * lambdas/db-inspect and their constructs).
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { arn, defineContract, number, text, type ValuesOf } from './contract';

/**
 * The CA bundle of the Lambda runtime, which holds the RDS CAs: Node 20+ runtimes do not load it
 * unless NODE_EXTRA_CA_CERTS names it, and TLS to the database is verified.
 */
export const LAMBDA_RUNTIME_CA_BUNDLE = '/var/runtime/ca-cert.pem';

/** The bounds of the maintenance's settings; lib/config's `database` uses them. */
export const DB_MAINTENANCE_RULES = {
  /** Age in days after which batch_audit rows move to batch_audit_archive. */
  archiveRetentionDays: z.number().int('must be a whole number of days').min(1, 'must be at least 1 day'),
} as const;

const caCertificates = text('NODE_EXTRA_CA_CERTS', z.literal(LAMBDA_RUNTIME_CA_BUNDLE));

/** Where a database Lambda connects. */
const connection = {
  /** The master secret (username, password, host, port). */
  secretArn: text('DB_SECRET_ARN', arn),
  databaseName: text('DB_NAME'),
  /** The instance's endpoint: the host to connect to (not the proxy's). */
  host: text('DB_HOST'),
  caCertificates,
};

export const dbMaintenanceContract = defineContract('db-maintenance', {
  ...connection,
  archiveRetentionDays: number('ARCHIVE_RETENTION_DAYS', DB_MAINTENANCE_RULES.archiveRetentionDays),
});
export type DbMaintenanceValues = ValuesOf<typeof dbMaintenanceContract>;

/** The read-only reports of `ops db` (lambdas/db-inspect, lib/constructs/db-inspect.ts). */
export const dbInspectContract = defineContract('db-inspect', connection);
export type DbInspectValues = ValuesOf<typeof dbInspectContract>;

/** The migrations get the database from the custom resource's properties; the environment holds the CAs. */
export const dbMigrateContract = defineContract('db-migrate', { caCertificates });
export type DbMigrateValues = ValuesOf<typeof dbMigrateContract>;
