import { declareCalls } from '../../core/calls';

/** What the maintenance Lambda calls in AWS (besides the database itself). */
export const DB_MAINTENANCE_CALLS = declareCalls({
  databaseSecret: { actions: ['secretsmanager:GetSecretValue'] },
});
