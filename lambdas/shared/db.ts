import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client, type ClientConfig } from 'pg';
// A namespace import lets esbuild drop the parts of zod we do not use (450 KB -> 85 KB).
import * as z from 'zod';
import type { SqlClient } from '../../core/db/sql';
import { DependencyUnavailableError, InvalidInputError, parseInput } from '../../core/errors';

export type { SqlClient };

/** A connection the handler closes when its work is done. */
export type ClosableSqlClient = SqlClient & { end(): Promise<void> };

/** The JSON of an RDS-generated credentials secret. */
const rdsSecretSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  host: z.string().min(1).optional(),
  port: z.coerce.number().int().positive().optional(),
  dbname: z.string().min(1).optional(),
});

/** Where and how to connect. */
export interface ConnectOptions {
  /** ARN of the credentials secret (RDS-generated JSON). */
  readonly secretArn: string;
  /** Database name; the runbook's is fa_ai_db. */
  readonly database: string;
  /** Host to connect to instead of the secret's (an RDS Proxy endpoint). */
  readonly host?: string;
  /** @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Server-side limit per statement. @default 0 (none) */
  readonly statementTimeoutMs?: number;
  /** For tests: builds the client. @default new pg.Client(config) */
  readonly createClient?: (config: ClientConfig) => Client;
}

/**
 * Reads the credentials secret and opens a TLS connection that verifies the server
 * certificate (the Lambda sets NODE_EXTRA_CA_CERTS to the runtime's bundle, which holds
 * the RDS CAs). Throws DependencyUnavailableError when the database cannot be reached.
 */
export async function connectWithSecret(
  secrets: SecretsManagerClient,
  options: ConnectOptions,
): Promise<Client> {
  // A throttled secret read must not fail a deploy (db-migrate) or a maintenance window.
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: options.secretArn }));
  let json: unknown;
  try {
    json = JSON.parse(secret.SecretString ?? '');
  } catch {
    throw new InvalidInputError(`Secret ${options.secretArn} does not hold JSON credentials`);
  }
  const creds = parseInput(rdsSecretSchema, json, `Secret ${options.secretArn} is not RDS credentials`);
  const host = options.host ?? creds.host;
  if (!host)
    throw new InvalidInputError(`No database host: secret ${options.secretArn} has none and none was given`);

  const config: ClientConfig = {
    host,
    port: creds.port ?? 5432,
    user: creds.username,
    password: creds.password,
    database: options.database,
    ssl: { rejectUnauthorized: true },
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 0,
    application_name: 'fa-ai-system-automation',
  };
  const client = (options.createClient ?? ((c) => new Client(c)))(config);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DependencyUnavailableError(
      `Cannot connect to ${host}:${config.port}/${options.database}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return client;
}
