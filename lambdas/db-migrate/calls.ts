import { declareCalls } from '../../core/calls';

/** What the migrations Lambda calls in AWS (besides the database itself). */
export const DB_MIGRATE_CALLS = declareCalls({
  databaseSecret: { actions: ['secretsmanager:GetSecretValue'] },
});
