/** The ops CLI's command line: commands, options, durations and the usage text. */

import { parseArgs } from 'node:util';
import { InvalidInputError } from '../../lambdas/shared/errors';
import { COLOURS, type Colour, DEFAULT_SHIFT_STEPS, validateSteps } from '../../lambdas/shared/traffic';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../config/schema';
import { UsageError } from './errors';

export const USAGE = `Usage: npm run ops -- <command> --env <${ENVIRONMENT_NAMES.join('|')}> [--region <region>] [--json]

Commands:
  weights                          live (listener), stored (SSM, the source of truth) and configured
                                   weights, their drift, and the last shift
  shift --to <blue|green>          shift traffic in steps through the shift state machine and watch it
        [--steps 10,50,100] [--bake 5m]   (bake: 30s, 5m, 1h per step)
  rollback [--reason "..."]        restore the weights from before the last shift
  status                           ECS services, target health and live weights
  health [--kind morning|light]    the health check report (exit 1 unless HEALTHY)
  batch status                     last batch runs, schedule state, kill switch
  batch disable --reason "..."     disable the batch (schedule, parameter, running work)
  batch enable --reason "..." [--force]
                                   re-enable it (refused while over budget unless --force)
  remediation log [--limit 20] [--since 7d]
                                   the audit trail of automated and manual actions

Options:
  --env       the environment (required): ${ENVIRONMENT_NAMES.join(', ')}
  --region    default: the environment's configured region, else AWS_REGION
  --json      machine-readable output on stdout
  -h, --help  this text

Exit codes: 0 ok, 1 failed operation, 2 usage error or refused.
Credentials: the standard AWS chain (AWS_PROFILE, aws sso login, environment variables ...).`;

const OPTIONS = {
  env: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  to: { type: 'string' },
  steps: { type: 'string' },
  bake: { type: 'string' },
  reason: { type: 'string' },
  kind: { type: 'string' },
  force: { type: 'boolean' },
  limit: { type: 'string' },
  since: { type: 'string' },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL_OPTIONS: readonly OptionName[] = ['env', 'region', 'json', 'help'];

/** The options each command accepts besides the global ones. */
const COMMANDS = {
  weights: [],
  shift: ['to', 'steps', 'bake'],
  rollback: ['reason'],
  status: [],
  health: ['kind'],
  'batch status': ['limit'],
  'batch disable': ['reason'],
  'batch enable': ['reason', 'force'],
  'remediation log': ['limit', 'since'],
} as const satisfies Record<string, readonly OptionName[]>;

export type CommandName = keyof typeof COMMANDS;

/** A parsed command line. */
export type Command =
  | { readonly name: 'weights' }
  | { readonly name: 'shift'; readonly to: Colour; readonly steps: number[]; readonly bakeSeconds: number }
  | { readonly name: 'rollback'; readonly reason?: string }
  | { readonly name: 'status' }
  | { readonly name: 'health'; readonly kind: 'morning' | 'light' }
  | { readonly name: 'batch status'; readonly limit: number }
  | { readonly name: 'batch disable'; readonly reason: string }
  | { readonly name: 'batch enable'; readonly reason: string; readonly force: boolean }
  | { readonly name: 'remediation log'; readonly limit: number; readonly sinceSeconds?: number };

/** The whole command line. */
export type ParsedArgs =
  | { readonly help: true }
  | {
      readonly help: false;
      readonly env: EnvironmentName;
      readonly region?: string;
      readonly json: boolean;
      readonly command: Command;
    };

/** Parses argv (without node and the script); UsageError on anything wrong. */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };

  const [first, second, ...rest] = positionals;
  if (first === undefined) throw new UsageError('No command given');
  const name = (
    first === 'batch' || first === 'remediation' ? `${first} ${second ?? ''}`.trim() : first
  ) as string;
  if (!(name in COMMANDS)) {
    throw new UsageError(
      first === 'batch' || first === 'remediation'
        ? `Unknown ${first} command '${second ?? ''}': expected ${Object.keys(COMMANDS)
            .filter((c) => c.startsWith(`${first} `))
            .map((c) => c.slice(first.length + 1))
            .join(', ')}`
        : `Unknown command '${first}'`,
    );
  }
  const commandName = name as CommandName;
  const extra =
    first === 'batch' || first === 'remediation' ? rest : [second, ...rest].filter((p) => p !== undefined);
  if (extra.length > 0) throw new UsageError(`Unexpected argument(s) for ${commandName}: ${extra.join(' ')}`);

  const allowed = new Set<OptionName>([...GLOBAL_OPTIONS, ...COMMANDS[commandName]]);
  for (const [option, value] of Object.entries(values)) {
    if (value !== undefined && !allowed.has(option as OptionName)) {
      throw new UsageError(`Option --${option} does not apply to ${commandName}`);
    }
  }

  if (values.env === undefined)
    throw new UsageError(`--env is required: one of ${ENVIRONMENT_NAMES.join(', ')}`);
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(values.env)) {
    throw new UsageError(
      `Unknown environment '${values.env}': expected one of ${ENVIRONMENT_NAMES.join(', ')}`,
    );
  }
  if (values.region !== undefined && !/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/.test(values.region)) {
    throw new UsageError(`--region ${values.region} is not an AWS region such as us-east-1`);
  }

  return {
    help: false,
    env: values.env as EnvironmentName,
    region: values.region,
    json: values.json ?? false,
    command: commandOf(commandName, values),
  };
}

function commandOf(name: CommandName, values: Partial<Record<OptionName, string | boolean>>): Command {
  const text = (option: OptionName): string | undefined => {
    const value = values[option];
    return typeof value === 'string' ? value : undefined;
  };
  const requiredText = (option: OptionName): string => {
    const value = text(option)?.trim();
    if (value === undefined || value === '') throw new UsageError(`${name} needs --${option} "..."`);
    return value;
  };
  switch (name) {
    case 'weights':
    case 'status':
      return { name };
    case 'shift': {
      const to = text('to');
      if (to === undefined) throw new UsageError('shift needs --to blue or --to green');
      if (!(COLOURS as readonly string[]).includes(to)) {
        throw new UsageError(`--to ${to}: expected ${COLOURS.join(' or ')}`);
      }
      return {
        name,
        to: to as Colour,
        steps: parseSteps(text('steps')),
        bakeSeconds: parseDuration(text('bake') ?? '5m', '--bake'),
      };
    }
    case 'rollback':
      return { name, reason: text('reason')?.trim() || undefined };
    case 'health': {
      const kind = text('kind') ?? 'morning';
      if (kind !== 'morning' && kind !== 'light')
        throw new UsageError(`--kind ${kind}: expected morning or light`);
      return { name, kind };
    }
    case 'batch status':
      return { name, limit: parseLimit(text('limit'), 5) };
    case 'batch disable':
      return { name, reason: requiredText('reason') };
    case 'batch enable':
      return { name, reason: requiredText('reason'), force: values.force === true };
    case 'remediation log': {
      const since = text('since');
      return {
        name,
        limit: parseLimit(text('limit'), 20),
        sinceSeconds: since === undefined ? undefined : parseDuration(since, '--since', ['m', 'h', 'd']),
      };
    }
  }
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/**
 * Seconds of "30s", "5m", "1h" (and "7d" where days are allowed); UsageError naming the option
 * otherwise. At most 24 hours for a bake.
 */
export function parseDuration(
  text: string,
  option: string,
  units: ReadonlyArray<keyof typeof UNIT_SECONDS> = ['s', 'm', 'h'],
): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const unit = match?.[2] as keyof typeof UNIT_SECONDS | undefined;
  if (!match || unit === undefined || !units.includes(unit)) {
    throw new UsageError(
      `${option} ${text}: expected a number and a unit (${units.join(', ')}), e.g. ${units.includes('d') ? '7d' : '5m'}`,
    );
  }
  const seconds = Number(match[1]) * UNIT_SECONDS[unit];
  if (option === '--bake' && seconds > 86_400) throw new UsageError(`${option} ${text}: at most 24h`);
  if (option !== '--bake' && seconds === 0) throw new UsageError(`${option} ${text}: must be more than 0`);
  return seconds;
}

/** The steps of "10,50,100"; UsageError naming the bad value. */
export function parseSteps(text: string | undefined): number[] {
  if (text === undefined) return [...DEFAULT_SHIFT_STEPS];
  const parts = text.split(',').map((p) => p.trim());
  const steps = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN));
  const bad = parts.find((_, i) => Number.isNaN(steps[i]));
  if (bad !== undefined) throw new UsageError(`--steps ${text}: "${bad}" is not a whole number`);
  try {
    return validateSteps(steps);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(`--steps ${text}: ${error.message}`);
    throw error;
  }
}

function parseLimit(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1000) {
    throw new UsageError(`--limit ${text}: expected a whole number 1..1000`);
  }
  return Number(text);
}
