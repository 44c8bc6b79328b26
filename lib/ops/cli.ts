/**
 * The ops CLI: `npm run ops -- <command> --env <env> [--region <region>] [--json]`.
 *
 * Discovers everything from the service stack's `OpsManifest` output (one DescribeStacks),
 * then runs the command with the same code the Lambdas run (lambdas/shared/traffic.ts, the
 * batch controls, the health check). Exit codes: 0 ok, 1 failed operation, 2 usage or refused.
 */

import { loadEnvironmentConfig } from '../config';
import { type Command, parseCommandLine, USAGE } from './args';
import type { CliDeps } from './clients';
import {
  batchDisableCommand,
  batchEnableCommand,
  batchStatusCommand,
  remediationLogCommand,
} from './commands/batch';
import { healthCommand, statusCommand } from './commands/status';
import { rollbackCommand, shiftCommand, weightsCommand } from './commands/traffic';
import type { CommandContext } from './context';
import { classifyError, EXIT, UsageError } from './errors';
import { loadManifest } from './manifest';
import { type CommandResult, Output } from './output';

/** Runs one command line and returns the exit code; never throws. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  let out = new Output(deps.stdout, deps.stderr, argv.includes('--json'));
  try {
    const args = parseCommandLine(argv);
    if (args.help) {
      deps.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    out = new Output(deps.stdout, deps.stderr, args.json);
    const region = args.region ?? configuredRegion(args.env) ?? (deps.env ?? process.env).AWS_REGION;
    if (region === undefined || region === '') {
      throw new UsageError(
        'No region: pass --region (the environment has none configured and AWS_REGION is unset)',
      );
    }
    const clients = deps.clients(region);
    const retry = { sleep: deps.sleep };
    const manifest = await loadManifest(clients.cloudformation, args.env, region, retry);
    const ctx: CommandContext = {
      manifest,
      region,
      clients,
      out,
      now: deps.now,
      sleep: deps.sleep,
      actor: (deps.actor ?? (() => 'unknown'))(),
      retry,
      pollIntervalMs: deps.pollIntervalMs ?? 5_000,
    };
    const result = await run(ctx, args.command);
    out.result(result);
    return result.exitCode;
  } catch (error) {
    const classified = classifyError(error);
    out.error(classified.message, classified.exitCode);
    if (classified.usage) out.note(`\n${USAGE}`);
    return classified.exitCode;
  }
}

function run(ctx: CommandContext, command: Command): Promise<CommandResult> {
  switch (command.name) {
    case 'weights':
      return weightsCommand(ctx);
    case 'shift':
      return shiftCommand(ctx, command);
    case 'rollback':
      return rollbackCommand(ctx, command);
    case 'status':
      return statusCommand(ctx);
    case 'health':
      return healthCommand(ctx, command);
    case 'batch status':
      return batchStatusCommand(ctx, command);
    case 'batch disable':
      return batchDisableCommand(ctx, command);
    case 'batch enable':
      return batchEnableCommand(ctx, command);
    case 'remediation log':
      return remediationLogCommand(ctx, command);
  }
}

/** The environment's region from the repository's config, if it loads. */
function configuredRegion(env: string): string | undefined {
  try {
    return loadEnvironmentConfig(env).region;
  } catch {
    return undefined;
  }
}
