/**
 * Which part of a provider organization's bill belongs to this system: the ids config may name
 * (lib/config/schema.ts) and the reconciliation filters by (lambdas/spend-reconcile). No imports.
 */

/** An Anthropic workspace id, or `default` for the organization's default workspace. */
export const ANTHROPIC_WORKSPACE_ID = /^(wrkspc_[A-Za-z0-9]+|default)$/;

/** An OpenAI project id. */
export const OPENAI_PROJECT_ID = /^proj_[A-Za-z0-9]+$/;
