import { type Command, defineCommand, type Options, type Values } from '../cli/args';
import type { OpsClients } from './clients';
import type { OpsManifest } from './manifest';
import type { CommandResult, Output } from './output';

/** What every command gets. */
export interface CommandContext {
  readonly manifest: OpsManifest;
  readonly region: string;
  readonly clients: OpsClients;
  readonly out: Output;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Who runs the CLI. */
  readonly actor: string;
  readonly pollIntervalMs: number;
  /** Asks the operator (absent when stdin is not a terminal): see confirm.ts. */
  readonly prompt?: (question: string) => Promise<string>;
}

/** A command of the ops CLI (listed in commands/index.ts). */
export type OpsCommand = Command<CommandContext, Promise<CommandResult>>;

/**
 * Declares an ops command: its words, its options (lib/cli/args.ts builders, which give the
 * help, the refusals and the typed values `run` gets) and what runs it.
 */
export function opsCommand<O extends Options>(spec: {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly options: O;
  readonly run: (ctx: CommandContext, values: Values<O>) => Promise<CommandResult>;
}): OpsCommand {
  return defineCommand<O, CommandContext, Promise<CommandResult>>(spec);
}
