/**
 * The command line of the three CLIs (ops, cost, review): `node:util` parseArgs behind the
 * project's rules. Options are declared once, as data ({@link flag}, {@link text},
 * {@link choice} ...), and that declaration gives the typed values, the refusals and the help:
 *
 * - an unknown option, a value for a flag, a missing value and a bad value are refused with an
 *   {@link ArgsError} naming the option (each CLI prints it with the usage and exits 2);
 * - values are converted and checked by their option (`--bake 5m` is 300 seconds);
 * - `--help` / `-h` prints the usage of the command it follows, whatever else is wrong.
 *
 * parseArgs tokenizes; the checks run over its tokens so that the messages name the option and
 * say what was expected, then the strict parse runs and must agree.
 */

import { parseArgs } from 'node:util';

/** A bad command line: the message names the option; `usage` is the text to print after it. */
export class ArgsError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'ArgsError';
  }
}

interface OptionDef {
  readonly type: 'string' | 'boolean';
  readonly multiple: boolean;
  readonly description: string;
  /** The value in the help, e.g. `<dir>` ('' for a flag). */
  readonly placeholder: string;
  /** What a value must be, for messages ("blue or green"). */
  readonly expected: string;
  readonly short?: string;
  readonly required: boolean;
  /** The value when the option is absent, and how the help shows it. */
  readonly fallback?: { readonly value: unknown; readonly text?: string };
  /** Splits each value of a repeatable option (`--env a,b`). */
  readonly split?: string;
  /** The typed value of one text; throws with what was expected. */
  readonly parse: (text: string) => unknown;
}

/** One option: how it is written, documented and turned into a value of type T. */
export class Option<T> {
  /** Type-only: the value this option gives. */
  declare readonly valueType: T;

  constructor(readonly def: OptionDef) {}

  /** Refuses a command line without it. */
  required(): Option<Exclude<T, undefined>> {
    return new Option({ ...this.def, required: true });
  }

  /** The value when it is absent; `shown` is how the help writes it. */
  default(value: Exclude<T, undefined>, shown?: string): Option<Exclude<T, undefined>> {
    return new Option({ ...this.def, fallback: { value, text: shown ?? String(value) } });
  }

  /** A one-letter alias (`-o`). */
  short(letter: string): Option<T> {
    return new Option({ ...this.def, short: letter });
  }
}

/** Options by name: a camelCase key is written in kebab-case (`jsonOutput` is `--json-output`). */
export type Options = Readonly<Record<string, Option<unknown>>>;

/** The typed values of some options. */
export type Values<O extends Options> = { readonly [K in keyof O]: O[K]['valueType'] };

function option<T>(def: Omit<OptionDef, 'multiple' | 'required'> & { multiple?: boolean }): Option<T> {
  return new Option<T>({ multiple: false, required: false, ...def });
}

/** A switch: true when given, false otherwise; it takes no value. */
export function flag(description: string): Option<boolean> {
  return option({
    type: 'boolean',
    description,
    placeholder: '',
    expected: 'no value',
    fallback: { value: false },
    parse: () => true,
  });
}

/** Free text, trimmed; an empty one is refused. */
export function text(description: string, placeholder = '<text>'): Option<string | undefined> {
  return option({
    type: 'string',
    description,
    placeholder,
    expected: placeholder,
    parse: nonEmpty,
  });
}

function nonEmpty(value: string): string {
  if (value.trim() === '') throw new Error('expected a value, not an empty one');
  return value.trim();
}

/** A repeatable text (`--allow a --allow b`; with `split`, also `--env a,b`); [] when absent. */
export function list(description: string, placeholder = '<text>', split?: string): Option<readonly string[]> {
  return option({
    type: 'string',
    multiple: true,
    split,
    description,
    placeholder,
    expected: placeholder,
    fallback: { value: [], text: '' },
    parse: nonEmpty,
  });
}

/** "a or b" / "one of a, b, c". */
function alternatives(values: readonly string[]): string {
  return values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
}

/** One of some words. */
export function choice<const V extends string>(
  values: readonly V[],
  description: string,
): Option<V | undefined> {
  return option({
    type: 'string',
    description,
    placeholder: `<${values.join('|')}>`,
    expected: alternatives(values),
    parse: (value) => {
      if (!(values as readonly string[]).includes(value)) throw new Error(`expected ${alternatives(values)}`);
      return value;
    },
  });
}

/** A whole number within bounds. */
export function integer(
  description: string,
  bounds: { readonly min: number; readonly max: number },
  placeholder = '<n>',
): Option<number | undefined> {
  const expected = `a whole number ${bounds.min}..${bounds.max}`;
  return option({
    type: 'string',
    description,
    placeholder,
    expected,
    parse: (value) => {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < bounds.min || n > bounds.max) throw new Error(`expected ${expected}`);
      return n;
    },
  });
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** A unit of {@link duration}. */
export type DurationUnit = keyof typeof UNIT_SECONDS;

/** A duration such as 30s, 5m, 1h or 7d, in seconds; more than 0 unless `zero`, at most `max`. */
export function duration(
  description: string,
  limits: {
    readonly units: readonly DurationUnit[];
    readonly max?: { readonly seconds: number; readonly text: string };
    readonly zero?: boolean;
  },
): Option<number | undefined> {
  const { units, max } = limits;
  const example = units.includes('d') ? '7d' : '5m';
  return option({
    type: 'string',
    description,
    placeholder: '<duration>',
    expected: `a duration such as ${example}`,
    parse: (value) => {
      const match = /^(\d+)([smhd])$/.exec(value.trim());
      const unit = match?.[2] as DurationUnit | undefined;
      if (!match || unit === undefined || !units.includes(unit)) {
        throw new Error(`expected a number and a unit (${units.join(', ')}), e.g. ${example}`);
      }
      const seconds = Number(match[1]) * UNIT_SECONDS[unit];
      if (seconds === 0 && !limits.zero) throw new Error('must be more than 0');
      if (max && seconds > max.seconds) throw new Error(`at most ${max.text}`);
      return seconds;
    },
  });
}

/** A value of its own kind: `parse` returns it or throws saying what was expected. */
export function custom<T>(
  description: string,
  placeholder: string,
  expected: string,
  parse: (text: string) => T,
): Option<T | undefined> {
  return option({ type: 'string', description, placeholder, expected, parse });
}

// ---------------------------------------------------------------------------------------------
// Commands

/** A command of a CLI with sub-commands: its words, its options and what runs it. */
export interface Command<C, R> {
  /** The words of the command, e.g. `batch status`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** More text for the command's own help. */
  readonly description?: string;
  readonly options: Options;
  /** Runs it with the values of its options (checked against `options` by {@link parseCommandLine}). */
  run(ctx: C, values: Readonly<Record<string, unknown>>): R;
}

/** Declares a command; `run` gets the typed values of `options`. */
export function defineCommand<O extends Options, C, R>(spec: {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly options: O;
  readonly run: (ctx: C, values: Values<O>) => R;
}): Command<C, R> {
  return { ...spec, run: (ctx, values) => spec.run(ctx, values as Values<O>) };
}

/** A CLI with sub-commands. */
export interface Program<G extends Options, C, R> {
  /** How it is invoked, e.g. `npm run ops --`. */
  readonly invocation: string;
  /** Options of every command (`--env`). */
  readonly globals: G;
  readonly commands: readonly Command<C, R>[];
  /** Text after the program's help (exit codes ...). */
  readonly footer?: string;
}

/** A parsed command line of a {@link Program}. */
export type ParsedCommandLine<G extends Options, C, R> =
  | { readonly help: string }
  | {
      readonly help?: undefined;
      readonly command: Command<C, R>;
      readonly globals: Values<G>;
      readonly values: Readonly<Record<string, unknown>>;
    };

const HELP = flag('this text').short('h');

/** `jsonOutput` -> `json-output`. */
function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** parseArgs' description of an option (it refuses `short: undefined`). */
function nodeOption(opt: Option<unknown>): { type: 'string' | 'boolean'; short?: string; multiple: boolean } {
  const { type, short, multiple } = opt.def;
  return short === undefined ? { type, multiple } : { type, short, multiple };
}

interface Scan {
  readonly help: boolean;
  readonly positionals: string[];
  /** The option tokens, for the checks. */
  readonly options: {
    readonly flag: string;
    readonly raw: string;
    readonly value?: string;
    readonly inline?: boolean;
  }[];
}

/** Tokenizes with every option that any command knows, so that values are told from words. */
function scan(argv: readonly string[], known: Options): Scan {
  const nodeOptions: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [key, opt] of Object.entries(known)) nodeOptions[flagName(key)] = nodeOption(opt);
  const { tokens } = parseArgs({
    args: [...argv],
    options: nodeOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const result: Scan = { help: false, positionals: [], options: [] };
  let help = false;
  for (const token of tokens) {
    if (token.kind === 'positional') result.positionals.push(token.value);
    if (token.kind !== 'option') continue;
    if (token.name === 'help') help = true;
    else
      result.options.push({
        flag: token.name,
        raw: token.rawName,
        value: token.value,
        inline: token.inlineValue,
      });
  }
  return { ...result, help };
}

/** Checks the option tokens against the options of one command and converts their values. */
function resolve(
  argv: readonly string[],
  scanned: Scan,
  options: Options,
  usage: string,
  notFor?: {
    readonly command: string;
    /** The command's own options (a missing required one is named with the command). */
    readonly own: Options;
    readonly elsewhere: ReadonlySet<string>;
  },
): Record<string, unknown> {
  const byFlag = new Map(Object.entries(options).map(([key, opt]) => [flagName(key), { key, opt }]));
  for (const token of scanned.options) {
    const entry = byFlag.get(token.flag);
    if (entry === undefined) {
      if (notFor?.elsewhere.has(token.flag))
        throw new ArgsError(`Option --${token.flag} does not apply to ${notFor.command}`, usage);
      throw new ArgsError(`Unknown option '${token.raw}'`, usage);
    }
    const { def } = entry.opt;
    if (def.type === 'boolean' && token.value !== undefined)
      throw new ArgsError(`--${token.flag} takes no value (given '${token.value}')`, usage);
    if (
      def.type === 'string' &&
      (token.value === undefined || (!token.inline && token.value.startsWith('-')))
    ) {
      throw new ArgsError(
        `--${token.flag} needs a value: ${def.expected}` +
          (token.value === undefined || token.value.startsWith('--')
            ? ''
            : ` (to pass one starting with '-', write --${token.flag}=${token.value})`),
        usage,
      );
    }
  }
  const nodeOptions = Object.fromEntries(
    Object.entries(options).map(([key, opt]) => [flagName(key), nodeOption(opt)]),
  );
  let raw: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    raw = parseArgs({
      args: [...argv],
      options: { ...nodeOptions, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    }).values;
  } catch (error) {
    throw new ArgsError((error as Error).message, usage);
  }
  const values: Record<string, unknown> = {};
  for (const [flagText, { key, opt }] of byFlag) {
    const owner = notFor && key in notFor.own ? notFor.command : undefined;
    values[key] = convert(flagText, opt.def, raw[flagText], usage, owner);
  }
  return values;
}

function convert(name: string, def: OptionDef, raw: unknown, usage: string, owner?: string): unknown {
  if (raw === undefined) {
    if (def.required && owner !== undefined) {
      const expected = def.expected === def.placeholder ? '' : `: ${def.expected}`;
      throw new ArgsError(`${owner} needs --${name} ${def.placeholder}${expected}`, usage);
    }
    if (def.required) throw new ArgsError(`--${name} is required: ${def.expected}`, usage);
    return def.fallback?.value;
  }
  /** `given` is what the user wrote (`a,,b` for the part ''). */
  const one = (text: string, given = text): unknown => {
    try {
      return def.parse(text);
    } catch (error) {
      throw new ArgsError(`--${name} ${given === '' ? "''" : given}: ${(error as Error).message}`, usage);
    }
  };
  if (def.type === 'boolean') return true;
  if (def.multiple) {
    const { split } = def;
    return (raw as string[]).flatMap((t) => (split ? t.split(split).map((part) => one(part, t)) : [one(t)]));
  }
  return one(raw as string);
}

/**
 * Parses the command line of a CLI without sub-commands. Returns `help` when `--help` or `-h`
 * was given (nothing else is checked then); ArgsError on anything wrong.
 */
export function parseOptions<O extends Options>(
  argv: readonly string[],
  options: O,
  usage: string,
): { readonly help: true } | { readonly help: false; readonly values: Values<O> } {
  const scanned = scan(argv, options);
  if (scanned.help) return { help: true };
  const values = resolve(argv, scanned, options, usage);
  if (scanned.positionals.length > 0)
    throw new ArgsError(`Unexpected argument(s): ${scanned.positionals.join(' ')}`, usage);
  return { help: false, values: values as Values<O> };
}

/**
 * Parses the command line of a {@link Program}: the command's words, then its options and the
 * global ones in any order. `help` is the text to print for `--help` (the command's, a group's
 * or the program's); ArgsError on anything wrong, with the usage of the command it concerns.
 */
export function parseCommandLine<G extends Options, C, R>(
  argv: readonly string[],
  program: Program<G, C, R>,
): ParsedCommandLine<G, C, R> {
  const everything: Record<string, Option<unknown>> = { ...program.globals };
  for (const command of program.commands) {
    for (const [key, opt] of Object.entries(command.options)) {
      const other = everything[key];
      // One tokenization serves every command: an option name must mean one kind of value.
      if (other && (other.def.type !== opt.def.type || other.def.multiple !== opt.def.multiple)) {
        throw new Error(
          `Option --${flagName(key)} of ${command.name} is declared with another type elsewhere`,
        );
      }
      everything[key] = opt;
    }
  }
  const scanned = scan(argv, everything);
  const words = scanned.positionals;
  const command = [...program.commands]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((word, i) => words[i] === word));
  const group = words[0] !== undefined && program.commands.some((c) => c.name.startsWith(`${words[0]} `));

  if (scanned.help) {
    if (command) return { help: commandUsage(program, command) };
    return { help: programUsage(program, group ? words[0] : undefined) };
  }
  // Before the words: an unknown option followed by a value would make the value a word.
  const unknown = scanned.options.find(
    (o) => !Object.keys(everything).some((key) => flagName(key) === o.flag),
  );
  if (unknown !== undefined) {
    throw new ArgsError(
      `Unknown option '${unknown.raw}'`,
      command ? commandUsage(program, command) : programUsage(program),
    );
  }
  if (command === undefined) {
    const first = words[0];
    if (first === undefined) throw new ArgsError('No command given', programUsage(program));
    if (group) {
      const subs = program.commands
        .filter((c) => c.name.startsWith(`${first} `))
        .map((c) => c.name.slice(first.length + 1));
      const second = words[1];
      throw new ArgsError(
        second === undefined
          ? `${first} needs a command: ${subs.join(', ')}`
          : `Unknown ${first} command '${second}': expected ${subs.join(', ')}`,
        programUsage(program, first),
      );
    }
    throw new ArgsError(
      `Unknown command '${first}': expected one of ${[...new Set(program.commands.map((c) => c.name.split(' ')[0]))].join(', ')}`,
      programUsage(program),
    );
  }
  const usage = commandUsage(program, command);
  const elsewhere = new Set(Object.keys(everything).map(flagName));
  const values = resolve(argv, scanned, { ...program.globals, ...command.options }, usage, {
    command: command.name,
    own: command.options,
    elsewhere,
  });
  // After the options: the value of an unknown option reads as a stray word.
  const extra = words.slice(command.name.split(' ').length);
  if (extra.length > 0)
    throw new ArgsError(`Unexpected argument(s) for ${command.name}: ${extra.join(' ')}`, usage);
  const globals = Object.fromEntries(Object.keys(program.globals).map((key) => [key, values[key]]));
  const own = Object.fromEntries(Object.keys(command.options).map((key) => [key, values[key]]));
  return { command, globals: globals as Values<G>, values: own };
}

// ---------------------------------------------------------------------------------------------
// Help

/** Text in lines of at most 100 characters, each after `indent` spaces. */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent + line.length + 1 + word.length > 100) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.map((l) => `${' '.repeat(indent)}${l}`).join('\n');
}

/** `--to <blue|green>`, `[--steps <list>]`. */
function synopsisOf(options: Options): string {
  return Object.entries(options)
    .map(([key, opt]) => {
      const written = `--${flagName(key)}${opt.def.placeholder ? ` ${opt.def.placeholder}` : ''}`;
      return opt.def.required ? written : `[${written}]`;
    })
    .join(' ');
}

/** The "Options:" lines of some options, aligned. */
export function optionsHelp(options: Options, withHelp = true): string {
  const rows = Object.entries(withHelp ? { ...options, help: HELP } : options).map(([key, opt]) => {
    const { def } = opt;
    const left = `${def.short ? `-${def.short}, ` : ''}--${flagName(key)}${def.placeholder ? ` ${def.placeholder}` : ''}`;
    const notes = [
      def.required ? 'required' : undefined,
      def.multiple ? `repeatable${def.split === ',' ? ', or comma-separated' : ''}` : undefined,
      def.fallback?.text ? `default ${def.fallback.text}` : undefined,
    ].filter((n) => n !== undefined);
    return [left, `${def.description}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`] as const;
  });
  const width = Math.min(28, Math.max(...rows.map(([left]) => left.length)));
  return rows
    .map(([left, right]) => {
      const text = wrap(right, width + 4).trimStart();
      return left.length > width
        ? `  ${left}\n${' '.repeat(width + 4)}${text}`
        : `  ${left.padEnd(width)}  ${text}`;
    })
    .join('\n');
}

export function commandUsage<G extends Options, C, R>(
  program: Program<G, C, R>,
  command: Command<C, R>,
): string {
  const synopsis = [command.name, synopsisOf(command.options), synopsisOf(program.globals)]
    .filter((s) => s !== '')
    .join(' ');
  const own =
    Object.keys(command.options).length > 0 ? `\nOptions:\n${optionsHelp(command.options, false)}\n` : '';
  return [
    `Usage: ${program.invocation} ${synopsis}`,
    '',
    wrap(`${command.summary.charAt(0).toUpperCase()}${command.summary.slice(1)}.`, 0),
    ...(command.description ? [wrap(command.description, 0)] : []),
    own,
    `Global options:\n${optionsHelp(program.globals)}`,
  ].join('\n');
}

export function programUsage<G extends Options, C, R>(program: Program<G, C, R>, group?: string): string {
  const commands = program.commands.filter((c) => group === undefined || c.name.startsWith(`${group} `));
  const lines = commands.map((c) => {
    const synopsis = [c.name, synopsisOf(c.options)].filter((s) => s !== '').join(' ');
    const summary = wrap(c.summary, 36).trimStart();
    return synopsis.length > 32
      ? `  ${synopsis}\n${' '.repeat(36)}${summary}`
      : `  ${synopsis.padEnd(32)}  ${summary}`;
  });
  return [
    `Usage: ${program.invocation} ${group ?? '<command>'}${group ? ' <command>' : ''} ${synopsisOf(program.globals)}`,
    '',
    'Commands:',
    ...lines,
    '',
    `Global options:\n${optionsHelp(program.globals)}`,
    '',
    `\`${program.invocation} <command> --help\` describes a command and its options.`,
    ...(program.footer ? ['', program.footer] : []),
  ].join('\n');
}
