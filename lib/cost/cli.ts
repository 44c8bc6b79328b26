import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ArgsError, flag, list, optionsHelp, parseOptions, text } from '../cli/args';
import { estimateAssembly } from './assembly';
import { checkBudgets, configuredBudgets } from './budgets';
import { CostError, CostUsageError, UnknownEnvironmentError } from './errors';
import { formatReport } from './report';

/** Exit codes of `npm run cost`. */
export const COST_EXIT = { ok: 0, overBudget: 1, error: 2 } as const;

const OPTIONS = {
  assembly: text('cloud assembly directory', '<dir>').default('cdk.out'),
  env: list('only these environments', '<name>', ','),
  json: flag('machine-readable output'),
};

export const COST_USAGE = `Usage: npm run cost -- [--assembly <dir>] [--env <name>[,<name>]] [--json]

Prices the fixed monthly cost of the stacks of a synthesized cloud assembly (run
\`npx cdk synth\` first) and compares each environment with its costBudgetUsd.

${optionsHelp(OPTIONS)}

Exit status: 0 within budgets, 1 an environment is over its budget, 2 bad input.`;

interface CliArgs {
  readonly assembly: string;
  readonly envs: readonly string[];
  readonly json: boolean;
  readonly help: boolean;
}

/** Parses the command line; throws CostUsageError naming the option on anything wrong. */
export function parseCostArgs(argv: readonly string[]): CliArgs {
  try {
    const parsed = parseOptions(argv, OPTIONS, COST_USAGE);
    if (parsed.help) return { assembly: 'cdk.out', envs: [], json: false, help: true };
    const { assembly, env, json } = parsed.values;
    return { assembly, envs: env, json, help: false };
  } catch (error) {
    if (error instanceof ArgsError) throw new CostUsageError(error.message);
    throw error;
  }
}

/** Where the CLI writes, replaceable in tests. */
export interface CostCliOptions {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /** Budgets by environment; @default costBudgetUsd of lib/config */
  readonly budgets?: Readonly<Record<string, number>>;
}

/** Runs `npm run cost` and returns its exit code. */
export async function runCostCli(argv: readonly string[], options: CostCliOptions = {}): Promise<number> {
  const stdout = options.stdout ?? ((t: string) => process.stdout.write(`${t}\n`));
  const stderr = options.stderr ?? ((t: string) => process.stderr.write(`${t}\n`));
  try {
    const args = parseCostArgs(argv);
    if (args.help) {
      stdout(COST_USAGE);
      return COST_EXIT.ok;
    }
    const estimate = await estimateAssembly(args.assembly);
    const available = estimate.environments.map((e) => e.envName);
    const unknown = args.envs.filter((e) => !available.includes(e));
    if (unknown.length > 0) {
      throw new UnknownEnvironmentError(
        `Unknown environment ${unknown.map((e) => `'${e}'`).join(', ')}: ${args.assembly} holds ${available.join(', ') || 'no stacks'}`,
      );
    }
    const environments = estimate.environments.filter(
      (e) => args.envs.length === 0 || args.envs.includes(e.envName),
    );
    const selected = { ...estimate, environments };
    let budgets = options.budgets;
    const warnings: string[] = [];
    if (!budgets) {
      const configured = configuredBudgets(environments.map((e) => e.envName));
      budgets = configured.budgets;
      warnings.push(...configured.warnings);
    }
    const checks = checkBudgets(selected, budgets);
    const synthesized = await stat(join(args.assembly, 'manifest.json')).then((s) => s.mtime.toISOString());
    if (args.json) {
      stdout(JSON.stringify({ synthesizedAt: synthesized, ...selected, budgets: checks, warnings }, null, 2));
    } else {
      stdout(
        `Cloud assembly ${args.assembly} (synthesized ${synthesized}; re-run \`npx cdk synth\` if stale)\n`,
      );
      for (const warning of warnings) stdout(`WARNING: ${warning}`);
      stdout(formatReport(environments, checks, estimate.assumptions));
    }
    const over = checks.filter((c) => c.withinBudget === false);
    for (const c of over) {
      stderr(
        `${c.envName}: estimated $${c.monthlyFixedUsd.toFixed(2)}/month exceeds its budget of $${c.budgetUsd?.toFixed(2)}`,
      );
    }
    return over.length > 0 ? COST_EXIT.overBudget : COST_EXIT.ok;
  } catch (error) {
    if (error instanceof CostError) {
      stderr(`${error.name}: ${error.message}`);
      if (error instanceof CostUsageError) stderr(COST_USAGE);
      return COST_EXIT.error;
    }
    throw error;
  }
}
