/**
 * The ops CLI: `npm run ops -- <command> --env <env> [--region <region>] [--json]`.
 *
 * Discovers everything from the service stack's `OpsManifest` output (one DescribeStacks),
 * then runs the command with the same code the Lambdas run (core/traffic, the
 * batch controls, the health check). Exit codes: 0 ok, 1 failed operation, 2 usage or refused.
 */

import { loadEnvironmentConfig } from '../config';
import { parseCommandLine, USAGE } from './args';
import type { CliDeps } from './clients';
import type { CommandContext } from './context';
import { classifyError, EXIT, UsageError } from './errors';
import { loadManifest } from './manifest';
import { Output } from './output';

/** Runs one command line and returns the exit code; never throws. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  let out = new Output(deps.stdout, deps.stderr, argv.includes('--json'));
  try {
    const args = parseCommandLine(argv);
    if (args.help !== undefined) {
      deps.stdout.write(`${args.help}\n`);
      return EXIT.ok;
    }
    const { env, json } = args.globals;
    out = new Output(deps.stdout, deps.stderr, json);
    const region = args.globals.region ?? configuredRegion(env) ?? (deps.env ?? process.env).AWS_REGION;
    if (region === undefined || region === '') {
      throw new UsageError(
        'No region: pass --region (the environment has none configured and AWS_REGION is unset)',
      );
    }
    const clients = deps.clients(region);
    const manifest = await loadManifest(clients.cloudformation, env, region);
    const ctx: CommandContext = {
      manifest,
      region,
      clients,
      out,
      now: deps.now,
      sleep: deps.sleep,
      actor: (deps.actor ?? (() => 'unknown'))(),
      pollIntervalMs: deps.pollIntervalMs ?? 5_000,
      prompt: deps.prompt,
    };
    const result = await args.command.run(ctx, args.values);
    out.result(result);
    return result.exitCode;
  } catch (error) {
    const classified = classifyError(error);
    out.error(classified.message, classified.exitCode);
    const usage = error instanceof UsageError && error.usage !== undefined ? error.usage : USAGE;
    if (classified.usage) out.note(`\n${usage}`);
    return classified.exitCode;
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
