import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ArgsError, choice, flag, list, optionsHelp, parseOptions, text } from '../cli/args';
import {
  type Acknowledgement,
  allowFlagAcknowledgements,
  DEFAULT_ACKNOWLEDGEMENT_FILE,
  readAcknowledgementFile,
} from './acknowledgements';
import { ReviewError, ReviewUsageError } from './errors';
import { renderJson, renderMarkdown } from './markdown';
import { type CostEstimator, reviewAssemblies } from './review';
import type { ReviewSide, SynthOutcome } from './types';

/** Exit codes of the review command: 1 is reserved for unacknowledged blockers. */
export const REVIEW_EXIT = { ok: 0, blocked: 1, error: 2, synthFailed: 3 } as const;

const OPTIONS = {
  base: text('cloud assembly of the base branch (npx cdk synth -o <dir>)', '<dir>').required(),
  head: text('cloud assembly of the head', '<dir>').required(),
  output: text('write the report there instead of stdout', '<file>').short('o'),
  json: flag('report as JSON instead of the Markdown PR comment'),
  jsonOutput: text('also write the JSON report there (one review, both forms)', '<file>'),
  allow: list('acknowledge blockers by logical id, resource type or <stack>/<logicalId>', '<match>'),
  acknowledgements: text(
    `acknowledgement file (default: ${DEFAULT_ACKNOWLEDGEMENT_FILE} in the current directory, when it exists)`,
    '<file>',
  ),
  baseLabel: text('name of the base in the report (e.g. its commit)'),
  headLabel: text('name of the head in the report'),
  baseSynth: choice(
    ['ok', 'failed'],
    'how cdk synth of the base went: a failed one is named first in the report, its assembly reviewed if it wrote one',
  ).default('ok'),
  headSynth: choice(['ok', 'failed'], 'the same for the head').default('ok'),
  baseSynthLog: text("the base synth's output, quoted in the report when it failed", '<file>'),
  headSynthLog: text('the same for the head', '<file>'),
};

/** How to run the review command. */
export const REVIEW_USAGE = `Usage: npm run review -- --base <assembly dir> --head <assembly dir> [options]

Diffs every stack of every environment of two synthesized cloud assemblies (base branch
and pull request head) offline, classifies each change (BLOCKER, SECURITY, REVIEW, ROUTINE,
ASSET-ONLY) and reports the cdk-nag / CloudFormation Validate findings delta.

Options:
${optionsHelp(OPTIONS)}

Exit codes: 0 no unacknowledged blocker, 1 unacknowledged blocker, 2 the review did not run
(bad input), 3 a synth failed (the report says which and what that means for the diff).
`;

/**
 * Runs `npm run review` with its command line (without node and the script): a bad one is
 * refused naming the option, with the usage and exit 2.
 */
export async function runReviewCli(argv: readonly string[], deps: ReviewCommandDeps = {}): Promise<number> {
  let args: ReviewCommandArgs;
  try {
    const parsed = parseOptions(argv, OPTIONS, REVIEW_USAGE);
    args = parsed.help ? { help: true } : parsed.values;
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    (deps.stderr ?? ((t: string) => process.stderr.write(t)))(`review: ${error.message}\n\n${REVIEW_USAGE}`);
    return REVIEW_EXIT.error;
  }
  return runReviewCommand(args, deps);
}

/** The parsed command line. */
export interface ReviewCommandArgs {
  readonly base?: string;
  readonly head?: string;
  readonly output?: string;
  readonly json?: boolean;
  readonly jsonOutput?: string;
  readonly allow?: readonly string[];
  readonly acknowledgements?: string;
  readonly baseLabel?: string;
  readonly headLabel?: string;
  readonly baseSynth?: string;
  readonly headSynth?: string;
  readonly baseSynthLog?: string;
  readonly headSynthLog?: string;
  readonly help?: boolean;
}

/** What the command needs from its surroundings; tests replace the streams and the date. */
export interface ReviewCommandDeps {
  readonly costEstimator?: CostEstimator;
  /** Where relative paths and the default acknowledgement file are resolved. */
  readonly cwd?: string;
  readonly today?: string;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

function loadAcknowledgements(args: ReviewCommandArgs, cwd: string): Acknowledgement[] {
  const fromFlags = allowFlagAcknowledgements(args.allow ?? []);
  if (args.acknowledgements) {
    return [
      ...readAcknowledgementFile(resolve(cwd, args.acknowledgements), args.acknowledgements),
      ...fromFlags,
    ];
  }
  const fallback = resolve(cwd, DEFAULT_ACKNOWLEDGEMENT_FILE);
  if (!existsSync(fallback)) return fromFlags;
  return [...readAcknowledgementFile(fallback, DEFAULT_ACKNOWLEDGEMENT_FILE), ...fromFlags];
}

function synthOutcome(
  side: ReviewSide,
  status: string | undefined,
  logFile: string | undefined,
  cwd: string,
): SynthOutcome {
  if (status === undefined || status === 'ok') return { ok: true };
  if (status !== 'failed')
    throw new ReviewUsageError(`--${side}-synth must be ok or failed, not '${status}'`);
  if (!logFile) return { ok: false };
  try {
    return { ok: false, log: readFileSync(resolve(cwd, logFile), 'utf8') };
  } catch {
    // The synth failing is what the report is about: a missing log only loses the quote.
    return { ok: false };
  }
}

function writeReport(cwd: string, file: string, report: string): void {
  const path = resolve(cwd, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, report);
}

/**
 * Runs the review command: reads both assemblies and the acknowledgements, writes the
 * Markdown (or JSON) report, and returns the exit code. Errors meant for the user are
 * printed, not thrown.
 */
export async function runReviewCommand(
  args: ReviewCommandArgs,
  deps: ReviewCommandDeps = {},
): Promise<number> {
  const stdout = deps.stdout ?? ((t: string) => process.stdout.write(t));
  const stderr = deps.stderr ?? ((t: string) => process.stderr.write(t));
  const cwd = deps.cwd ?? process.cwd();
  try {
    if (args.help) {
      stdout(REVIEW_USAGE);
      return REVIEW_EXIT.ok;
    }
    if (!args.base || !args.head) throw new ReviewUsageError('both --base and --head are required');
    const result = await reviewAssemblies({
      base: resolve(cwd, args.base),
      head: resolve(cwd, args.head),
      baseLabel: args.baseLabel,
      headLabel: args.headLabel,
      acknowledgements: loadAcknowledgements(args, cwd),
      costEstimator: deps.costEstimator,
      today: deps.today,
      synth: {
        base: synthOutcome('base', args.baseSynth, args.baseSynthLog, cwd),
        head: synthOutcome('head', args.headSynth, args.headSynthLog, cwd),
      },
    });
    const report = args.json ? renderJson(result) : renderMarkdown(result);
    if (args.output) writeReport(cwd, args.output, report);
    else stdout(report);
    if (args.jsonOutput) writeReport(cwd, args.jsonOutput, renderJson(result));
    for (const failed of result.failedSynths) {
      stderr(
        `review: cdk synth of the ${failed.side} failed${failed.assembly ? '' : ' and wrote no assembly'}\n`,
      );
    }
    if (result.blockers.unacknowledged > 0) {
      stderr(
        `review: ${result.blockers.unacknowledged} unacknowledged blocker(s); acknowledge intended ones in ${DEFAULT_ACKNOWLEDGEMENT_FILE} or with --allow\n`,
      );
    }
    return result.exitCode;
  } catch (error) {
    if (!(error instanceof ReviewError)) throw error;
    stderr(`review: ${error.message}\n`);
    if (error instanceof ReviewUsageError) stderr(`\n${REVIEW_USAGE}`);
    return REVIEW_EXIT.error;
  }
}
