import { declareCalls } from '../../core/calls';

/** What the inspection Lambda calls in AWS (besides the database itself). */
export const DB_INSPECT_CALLS = declareCalls({
  databaseSecret: { actions: ['secretsmanager:GetSecretValue'] },
});
