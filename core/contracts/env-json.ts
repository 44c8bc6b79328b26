// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';

/**
 * An environment variable holding a JSON document that must then match `schema`: invalid JSON
 * is reported as "must be valid JSON" under the variable's name. `text` is the rule for the raw
 * string (by default: not blank).
 */
export function jsonEnvVar<T extends z.ZodType>(
  schema: T,
  text: z.ZodType<string> = z.string().trim().min(1),
) {
  return text
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
