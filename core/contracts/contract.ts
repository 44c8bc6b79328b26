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
import { InvalidInputError } from '../errors';
import { parseFunctionEnv } from './env';
import { jsonEnvVar } from './env-json';

/** A function's environment as Lambda hands it over. */
export type FunctionEnv = Readonly<Record<string, string | undefined>>;

/**
 * Encodes the value of a JSON variable. Constructs pass CDK's `Stack.toJsonString`: a deploy-time
 * value (a token of a Lazy string, say) inside a JSON document is escaped when it resolves,
 * which `JSON.stringify` cannot do. Tests and the CLI use `JSON.stringify`.
 */
export type JsonEncoder = (value: unknown) => string;

/**
 * One environment variable: its name, the rule of its value, and its string form. The handler
 * gets `T`; the construct writes `I`, which differs only when the rule transforms what it read
 * (the alarm facts' document becomes a lookup by name).
 */
export interface Variable<T, I = T> {
  readonly name: string;
  /** How the value is written: as is, as a decimal number, or as a JSON document. */
  readonly kind: 'text' | 'number' | 'json';
  /** The rule of the value, what the construct passes and the handler gets (the ops manifest reuses it). */
  readonly value: z.ZodType<T, I>;
  /** The variable's string to its value; fails naming the rule it broke. */
  readonly parser: z.ZodType<T>;
  encode(value: I, json: JsonEncoder): string;
}

// biome-ignore lint/suspicious/noExplicitAny: the constraint of any variable; `I` is contravariant in encode.
type AnyVariables = Readonly<Record<string, Variable<unknown, any>>>;

/** The values of a contract's variables, by field: what the handler gets. */
export type ContractValues<V extends AnyVariables> = {
  readonly [K in keyof V]: V[K] extends Variable<infer T, infer _I> ? T : never;
};

/** What the construct writes into a contract's variables, by field. */
export type ContractInput<V extends AnyVariables> = {
  readonly [K in keyof V]: V[K] extends Variable<infer _T, infer I> ? I : never;
};

/** The values type of a contract: what its handler gets. */
export type ValuesOf<C> = C extends FunctionContract<infer V, infer _I> ? V : never;
/** What a contract's construct writes. */
export type InputOf<C> = C extends FunctionContract<infer _V, infer I> ? I : never;

/** A rule across variables: a message when `values` break it, on the variable of `field`. */
export type CrossRule<Values> = (
  values: Values,
) => { readonly field: keyof Values; readonly message: string } | undefined;

/** A Lambda's configuration: what its construct writes (`Input`), what its handler reads (`Values`). */
export interface FunctionContract<Values = unknown, Input = Values> {
  /** The Lambda's folder under lambdas/ (its POWERTOOLS_SERVICE_NAME too). */
  readonly functionName: string;
  /** Every variable's name. */
  readonly variables: readonly string[];
  /** The variables of `values`; what AppFunction sets on the function. */
  serialize(values: Input, json?: JsonEncoder): Record<string, string>;
  /** The values in `env` (other variables are ignored); InvalidInputError naming every bad variable. */
  parse(env: FunctionEnv): Values;
}

/** A contract built by {@link defineContract}: one variable per field. */
export interface FieldContract<Values = unknown, Input = Values> extends FunctionContract<Values, Input> {
  /** Each field's variable. */
  readonly fields: {
    readonly [K in keyof Values]: Variable<Values[K], K extends keyof Input ? Input[K] : never>;
  };
}

const required = z.string({ error: 'is required' }).trim().min(1, 'is required');

/** A text that is not blank. */
export const nonBlank = z.string().trim().min(1, 'must not be blank');
/** An ARN. */
export const arn = nonBlank.startsWith('arn:', 'must be an ARN');
/** An SSM parameter name (absolute). */
export const ssmParameterName = nonBlank.startsWith('/', 'must be an SSM parameter name starting with /');

/** A variable holding text that follows `rule`. */
export function text<T extends string = string>(name: string, rule?: z.ZodType<T, T>): Variable<NoInfer<T>> {
  const value = rule ?? (nonBlank as unknown as z.ZodType<T, T>);
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
export function json<T, I = T>(name: string, rule: z.ZodType<T, I>): Variable<NoInfer<T>, NoInfer<I>> {
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
export function defineContract<const V extends AnyVariables>(
  functionName: string,
  fields: V,
  rules: ReadonlyArray<CrossRule<ContractValues<V>>> = [],
): FieldContract<ContractValues<V>, ContractInput<V>> {
  type Values = ContractValues<V>;
  type Input = ContractInput<V>;
  const entries = Object.entries(fields) as Array<
    [keyof Values & keyof Input & string, Variable<unknown, unknown>]
  >;
  const names = entries.map(([, v]) => v.name);
  if (new Set(names).size !== names.length) {
    throw new Error(`contract ${functionName}: two fields share a variable name (${names.join(', ')})`);
  }
  const schema = z.object(Object.fromEntries(entries.map(([, v]) => [v.name, v.parser])));
  return {
    functionName,
    fields: fields as unknown as FieldContract<Values, Input>['fields'],
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
