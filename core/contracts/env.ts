// A type-only import: the schema comes from the caller, so nothing of zod is bundled here.
import type * as z from 'zod';
import { parseInput } from '../errors';

/**
 * A Lambda's environment variables parsed with `schema`; InvalidInputError naming every bad
 * variable otherwise, so a misconfigured function fails before it calls anything.
 */
export function parseFunctionEnv<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): z.output<S> {
  return parseInput(schema, env, 'Invalid function configuration');
}
