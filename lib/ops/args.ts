/** The ops CLI's command line: the global options, the commands (commands/index.ts) and the usage. */

import {
  ArgsError,
  choice,
  custom,
  flag,
  type ParsedCommandLine,
  type Program,
  parseCommandLine as parseProgram,
  programUsage,
} from '../cli/args';
import { ENVIRONMENT_NAMES } from '../config/schema';
import { OPS_COMMANDS } from './commands';
import type { CommandContext } from './context';
import { UsageError } from './errors';
import type { CommandResult } from './output';

const GLOBALS = {
  env: choice(ENVIRONMENT_NAMES, 'the environment').required(),
  region: custom(
    "default: the environment's configured region, else AWS_REGION",
    '<region>',
    'an AWS region such as us-east-1',
    (text) => {
      if (!/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/.test(text))
        throw new Error('not an AWS region such as us-east-1');
      return text;
    },
  ),
  json: flag('machine-readable output on stdout'),
};

const PROGRAM: Program<typeof GLOBALS, CommandContext, Promise<CommandResult>> = {
  invocation: 'npm run ops --',
  globals: GLOBALS,
  commands: OPS_COMMANDS,
  footer: `Exit codes: 0 ok, 1 failed operation, 2 usage error or refused.
Credentials: the standard AWS chain (AWS_PROFILE, aws sso login, environment variables ...).`,
};

/** The help of the whole CLI. */
export const USAGE = programUsage(PROGRAM);

/** A parsed command line: the help to print, or the command with its values and the global ones. */
export type ParsedArgs = ParsedCommandLine<typeof GLOBALS, CommandContext, Promise<CommandResult>>;

/** Parses argv (without node and the script); UsageError, with the usage it concerns, on anything wrong. */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  try {
    return parseProgram(argv, PROGRAM);
  } catch (error) {
    if (error instanceof ArgsError) throw new UsageError(error.message, error.usage);
    throw error;
  }
}
