import { resolve } from 'node:path';
import { type Acknowledgement, applyAcknowledgements } from './acknowledgements';
import { type LoadedAssembly, type RawFinding, readAssembly } from './assembly';
import { reviewStack, type StackPair } from './classify';
import { AssemblyReadError } from './errors';
import {
  type ChangeReview,
  type ClassCounts,
  type CostDelta,
  type EnvironmentReview,
  emptyCounts,
  type FailedSynth,
  type Finding,
  type ReviewResult,
  type ReviewSide,
  type StackReview,
  type SynthOutcome,
} from './types';

/**
 * Estimates the monthly cost (USD) of each environment of a synthesized cloud assembly.
 * Returns undefined when it cannot tell; the review then shows no cost section.
 */
export type CostEstimator = (
  assemblyDir: string,
) => Promise<Record<string /* env */, number /* USD */> | undefined>;

/** What to compare, and how. */
export interface ReviewOptions {
  /** Cloud assembly directory of the base branch. */
  readonly base: string;
  /** Cloud assembly directory of the head (the pull request). */
  readonly head: string;
  /** Shown instead of the directories, e.g. the commit SHAs. */
  readonly baseLabel?: string;
  readonly headLabel?: string;
  readonly acknowledgements?: readonly Acknowledgement[];
  readonly costEstimator?: CostEstimator;
  /** Today (UTC) as YYYY-MM-DD, for acknowledgement expiry; defaults to the current date. */
  readonly today?: string;
  /** How each side's `cdk synth` went; a side not given synthesized fine. */
  readonly synth?: Partial<Record<ReviewSide, SynthOutcome>>;
}

const LOG_TAIL_LINES = 40;
const LOG_TAIL_CHARS = 4_000;
// Built from a string: a control character in a regex literal reads as a typo.
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

/** The end of a synth's output, where its errors are, without terminal colours. */
export function synthLogTail(log: string): string {
  const lines = log.replace(ANSI_ESCAPE, '').trimEnd().split('\n');
  const tail = lines.slice(-LOG_TAIL_LINES).join('\n');
  return tail.length > LOG_TAIL_CHARS ? `…${tail.slice(-LOG_TAIL_CHARS)}` : tail;
}

/**
 * Reads one side. A side whose synth failed may have written an assembly anyway (policy
 * validation fails after the templates are written), or none, or half of one: the last two
 * are not an error of the review, only nothing to compare.
 */
function loadSide(
  side: ReviewSide,
  directory: string,
  outcome: SynthOutcome | undefined,
): { assembly?: LoadedAssembly; failed?: FailedSynth } {
  if (outcome?.ok !== false) return { assembly: readAssembly(directory) };
  let assembly: LoadedAssembly | undefined;
  try {
    assembly = readAssembly(directory);
  } catch (error) {
    if (!(error instanceof AssemblyReadError)) throw error;
  }
  const logTail = outcome.log ? synthLogTail(outcome.log) : '';
  return { assembly, failed: { side, assembly: assembly !== undefined, ...(logTail ? { logTail } : {}) } };
}

function labels(options: ReviewOptions): Pick<ReviewResult, 'base' | 'head'> {
  return {
    base: { directory: resolve(options.base), ...(options.baseLabel ? { label: options.baseLabel } : {}) },
    head: { directory: resolve(options.head), ...(options.headLabel ? { label: options.headLabel } : {}) },
  };
}

/** The environment of findings on constructs outside every stack. */
export const APP_ENVIRONMENT = '(app)';

function findingKey(f: RawFinding): string {
  return JSON.stringify([f.plugin, f.rule, f.constructPath]);
}

function findingsDelta(
  base: readonly RawFinding[],
  head: readonly RawFinding[],
  environmentOf: (constructPath: string) => string,
): { added: Finding[]; fixed: Finding[] } {
  const baseKeys = new Set(base.map(findingKey));
  const headKeys = new Set(head.map(findingKey));
  const withEnv = (f: RawFinding): Finding => ({ ...f, environment: environmentOf(f.constructPath) });
  const unique = (findings: readonly RawFinding[]) => [
    ...new Map(findings.map((f) => [findingKey(f), f])).values(),
  ];
  return {
    added: unique(head.filter((f) => !baseKeys.has(findingKey(f)))).map(withEnv),
    fixed: unique(base.filter((f) => !headKeys.has(findingKey(f)))).map(withEnv),
  };
}

async function estimateCosts(
  estimator: CostEstimator,
  base: LoadedAssembly,
  head: LoadedAssembly,
): Promise<{ costs?: { base?: Record<string, number>; head?: Record<string, number> }; error?: string }> {
  try {
    const [baseCost, headCost] = await Promise.all([estimator(base.directory), estimator(head.directory)]);
    return { costs: { base: baseCost, head: headCost } };
  } catch (error) {
    // The cost is information for the reviewer, not a gate: report why it is missing.
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function countChanges(changes: readonly ChangeReview[]): ClassCounts {
  const counts = emptyCounts();
  for (const change of changes) counts[change.classification] += 1;
  return counts;
}

function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * Reviews what deploying the head assembly does to every stack of every environment, as
 * against the base assembly: classified changes, the cdk-nag / CloudFormation Validate
 * findings delta and, with an estimator, the monthly cost delta. Offline: no AWS calls.
 */
export async function reviewAssemblies(options: ReviewOptions): Promise<ReviewResult> {
  const baseSide = loadSide('base', options.base, options.synth?.base);
  const headSide = loadSide('head', options.head, options.synth?.head);
  const failedSynths = [baseSide.failed, headSide.failed].filter((f) => f !== undefined);
  const { assembly: base } = baseSide;
  const { assembly: head } = headSide;
  if (!base || !head) {
    return {
      version: 1,
      ...labels(options),
      environments: [],
      counts: emptyCounts(),
      blockers: { total: 0, unacknowledged: 0 },
      // Unused says nothing when nothing was compared.
      staleAcknowledgements: [],
      failedSynths,
      compared: false,
      exitCode: 3,
    };
  }
  const assetHashes = new Set([...base.assetHashes, ...head.assetHashes]);

  // Head order first: it is the app's order of environments (dev, staging, prod).
  const pairs = new Map<
    string,
    { base?: LoadedAssembly['stacks'][number]; head?: LoadedAssembly['stacks'][number] }
  >();
  for (const stack of head.stacks) pairs.set(stack.name, { head: stack });
  for (const stack of base.stacks) pairs.set(stack.name, { ...pairs.get(stack.name), base: stack });

  const reviewed: StackReview[] = [...pairs.entries()].map(([name, pair]) => {
    const environment = (pair.head ?? pair.base)?.environment ?? name;
    const stackPair: StackPair = { name, environment, base: pair.base, head: pair.head };
    return reviewStack(stackPair, assetHashes);
  });

  const { changes: acknowledged, stale } = applyAcknowledgements(
    reviewed.flatMap((s) => s.changes),
    options.acknowledgements ?? [],
    options.today ?? todayUtc(),
  );
  let next = 0;
  const stacks = reviewed.map((s) => ({
    ...s,
    changes: s.changes.map(() => acknowledged[next++] as ChangeReview),
  }));

  const stackEnvironment = new Map([...base.stacks, ...head.stacks].map((s) => [s.id, s.environment]));
  const environmentOf = (path: string) => stackEnvironment.get(path.split('/')[0] ?? '') ?? APP_ENVIRONMENT;
  const delta = findingsDelta(base.findings, head.findings, environmentOf);

  const cost = options.costEstimator ? await estimateCosts(options.costEstimator, base, head) : undefined;

  const environmentNames = [...new Set(stacks.map((s) => s.environment))];
  if ([...delta.added, ...delta.fixed].some((f) => f.environment === APP_ENVIRONMENT)) {
    environmentNames.push(APP_ENVIRONMENT);
  }
  const environments: EnvironmentReview[] = environmentNames.map((name) => {
    const envStacks = stacks.filter((s) => s.environment === name);
    const status =
      envStacks.length > 0 && envStacks.every((s) => s.status === 'added')
        ? 'added'
        : envStacks.length > 0 && envStacks.every((s) => s.status === 'removed')
          ? 'removed'
          : 'present';
    const baseUsd = cost?.costs?.base?.[name];
    const headUsd = cost?.costs?.head?.[name];
    const envCost: CostDelta | undefined =
      baseUsd === undefined && headUsd === undefined
        ? undefined
        : {
            baseUsd,
            headUsd,
            deltaUsd: baseUsd !== undefined && headUsd !== undefined ? headUsd - baseUsd : undefined,
          };
    return {
      name,
      status,
      stacks: envStacks,
      counts: countChanges(envStacks.flatMap((s) => s.changes)),
      findings: {
        added: delta.added.filter((f) => f.environment === name),
        fixed: delta.fixed.filter((f) => f.environment === name),
      },
      ...(envCost ? { cost: envCost } : {}),
    };
  });

  const all = stacks.flatMap((s) => s.changes);
  const blockers = all.filter((c) => c.classification === 'BLOCKER');
  const unacknowledged = blockers.filter((c) => !c.acknowledgement).length;
  return {
    version: 1,
    ...labels(options),
    environments,
    counts: countChanges(all),
    blockers: { total: blockers.length, unacknowledged },
    staleAcknowledgements: stale,
    ...(cost?.error ? { costError: cost.error } : {}),
    failedSynths,
    compared: true,
    exitCode: failedSynths.length > 0 ? 3 : unacknowledged > 0 ? 1 : 0,
  };
}
