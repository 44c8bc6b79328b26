import type { z } from 'zod';

/** Base of the automation's named errors; `name` is the class name for logs and metrics. */
export class AutomationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // The subclass's own name: the bundles keep class names (keepNames, lib/lambda-bundling.ts).
    this.name = new.target.name;
  }
}

/** The input (event, arguments) is not what was expected; nothing was done. */
export class InvalidInputError extends AutomationError {}

/** A dependency (database, AWS API) could not be reached in time. */
export class DependencyUnavailableError extends AutomationError {}

/** A short description of a zod error's issues: "field: rule; field: rule". */
export function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(event)'}: ${i.message}`)
    .join('; ');
}

/**
 * `value` parsed with `schema`; InvalidInputError otherwise, `what` followed by every issue, so
 * that malformed input (an event, a configuration) fails before anything is done.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(`${what}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** "ErrorName: message" of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
