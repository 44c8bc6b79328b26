/**
 * A Lambda's configuration contract: the one definition of the environment variables its
 * construct writes and its handler reads. The construct serializes typed values (AppFunction
 * does it, with CDK's JSON encoder), the handler parses `process.env` back into the same type,
 * and test/contracts feeds every synthesized function's environment through `parse`.
 *
 * The contracts are bundled into the Lambdas: they import zod and tiny shared modules only,
 * never aws-cdk-lib (test/contracts/imports.test.ts checks it).
 */

// A namespace import lets esbuild drop the parts of zod we do not use.
import * as z from 'zod';
import { parseFunctionEnv } from '../../lambdas/shared/env';
import { jsonEnvVar } from '../../lambdas/shared/env-json';
import { InvalidInputError } from '../../lambdas/shared/errors';

/** A function's environment as Lambda hands it over. */
export type FunctionEnv = Readonly<Record<string, string | undefined>>;

/**
 * Encodes the value of a JSON variable. Constructs pass CDK's `Stack.toJsonString`: a deploy-time
 * value (a token of a Lazy string, say) inside a JSON document is escaped when it resolves,
 * which `JSON.stringify` cannot do. Tests and the CLI use `JSON.stringify`.
 */
export type JsonEncoder = (value: unknown) => string;

/** One environment variable: its name, the rule of its value, and its string form. */
export interface Variable<T> {
  readonly name: string;
  /** How the value is written: as is, as a decimal number, or as a JSON document. */
  readonly kind: 'text' | 'number' | 'json';
  /** The rule of the value, what the construct passes and the handler gets (the ops manifest reuses it). */
  readonly value: z.ZodType<T>;
  /** The variable's string to its value; fails naming the rule it broke. */
  readonly parser: z.ZodType<T>;
  encode(value: T, json: JsonEncoder): string;
}

/** The values of a contract's variables, by field. */
export type ContractValues<V extends Readonly<Record<string, Variable<unknown>>>> = {
  readonly [K in keyof V]: V[K] extends Variable<infer T> ? T : never;
};

/** The values type of a contract. */
export type ValuesOf<C> = C extends FunctionContract<infer V> ? V : never;

/** A rule across variables: a message when `values` break it, on the variable of `field`. */
export type CrossRule<Values> = (
  values: Values,
) => { readonly field: keyof Values; readonly message: string } | undefined;

/** A Lambda's configuration: what its construct writes, what its handler reads. */
export interface FunctionContract<Values = unknown> {
  /** The Lambda's folder under lambdas/ (its POWERTOOLS_SERVICE_NAME too). */
  readonly functionName: string;
  /** Each field's variable. */
  readonly fields: { readonly [K in keyof Values]: Variable<Values[K]> };
  /** Every variable's name. */
  readonly variables: readonly string[];
  /** The variables of `values`; what AppFunction sets on the function. */
  serialize(values: Values, json?: JsonEncoder): Record<string, string>;
  /** The values in `env` (other variables are ignored); InvalidInputError naming every bad variable. */
  parse(env: FunctionEnv): Values;
}

const required = z.string({ error: 'is required' }).trim().min(1, 'is required');

/** A text that is not blank. */
export const nonBlank = z.string().trim().min(1, 'must not be blank');
/** An ARN. */
export const arn = nonBlank.startsWith('arn:', 'must be an ARN');
/** An SSM parameter name (absolute). */
export const ssmParameterName = nonBlank.startsWith('/', 'must be an SSM parameter name starting with /');

/** A variable holding text that follows `rule`. */
export function text<T extends string = string>(name: string, rule?: z.ZodType<T, string>): Variable<T> {
  const value = rule ?? (nonBlank as unknown as z.ZodType<T, string>);
  return { name, kind: 'text', value, parser: required.pipe(value), encode: (v) => v };
}

/** A variable holding a number (decimal text) that follows `rule`. */
export function number(name: string, rule: z.ZodType<number, number>): Variable<number> {
  return {
    name,
    kind: 'number',
    value: rule,
    // Blank is refused before the conversion (Number('') is 0); a half-numeric text ("1h") is NaN.
    parser: required.transform(Number).pipe(rule),
    encode: (value) => String(value),
  };
}

/** A variable holding a JSON document that follows `rule`. */
export function json<T>(name: string, rule: z.ZodType<T>): Variable<T> {
  return {
    name,
    kind: 'json',
    value: rule,
    parser: jsonEnvVar(rule, required),
    encode: (value, encode) => encode(value),
  };
}

/**
 * The contract of the Lambda in lambdas/<functionName>/ with `fields`' variables. `rules` check
 * values across variables (e.g. one threshold above another).
 */
export function defineContract<const V extends Readonly<Record<string, Variable<unknown>>>>(
  functionName: string,
  fields: V,
  rules: ReadonlyArray<CrossRule<ContractValues<V>>> = [],
): FunctionContract<ContractValues<V>> {
  type Values = ContractValues<V>;
  const entries = Object.entries(fields) as Array<[keyof Values & string, Variable<unknown>]>;
  const names = entries.map(([, v]) => v.name);
  if (new Set(names).size !== names.length) {
    throw new Error(`contract ${functionName}: two fields share a variable name (${names.join(', ')})`);
  }
  const schema = z.object(Object.fromEntries(entries.map(([, v]) => [v.name, v.parser])));
  return {
    functionName,
    fields: fields as unknown as FunctionContract<Values>['fields'],
    variables: names,
    serialize(values, encoder = JSON.stringify) {
      return Object.fromEntries(entries.map(([field, v]) => [v.name, v.encode(values[field], encoder)]));
    },
    parse(env) {
      const parsed = parseFunctionEnv(schema, env) as Record<string, unknown>;
      const values = Object.fromEntries(entries.map(([field, v]) => [field, parsed[v.name]])) as Values;
      const broken = rules.flatMap((rule) => rule(values) ?? []);
      if (broken.length > 0) {
        const described = broken.map(
          (b) => `${fields[b.field as keyof V]?.name ?? String(b.field)}: ${b.message}`,
        );
        throw new InvalidInputError(`Invalid function configuration: ${described.join('; ')}`);
      }
      return values;
    },
  };
}
