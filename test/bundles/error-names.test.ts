import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pauseUntil } from '../../core/automation/pause';
import { reenableBatch } from '../../lambdas/budget-guard/logic';
import type * as TrafficShiftHandler from '../../lambdas/traffic-shift/handler';
import { MIGRATIONS_DIR } from '../../lib/constructs/db-migrations';
import { PROJECT_ROOT } from '../../lib/lambda-bundling';
import { HANDLERS, type HandlerName } from '../fault-matrix/matrix';
import { type Synthesized, sharedSynth } from '../helpers/synth';
import * as budgetGuard from '../lambdas/budget-guard/harness';
import * as trafficShift from '../lambdas/traffic-shift/harness';
import { bundleDir, COPY_DIRECTORIES, requireBundle } from './bundles';

// Error names are matched by whoever receives them: the state machines (Catch/Retry), the CLI
// (a failed execution's error, its refusals), metrics and page texts. This file checks that
// each matched name is one our code really throws, in the form it deploys.

/** An identifier such as ShiftInProgressError inside a text. */
const ERROR_NAME = /\b[A-Z][A-Za-z0-9]*Error\b/g;

/** Errors Step Functions and the Lambda service raise themselves (States.Timeout, Lambda.ServiceException). */
const SERVICE_RAISED = /^(States|Lambda)\./;

/** Matched names that AWS, the SDK or Node raise, not our code, and where they come from. */
const RAISED_BY_OTHERS: Readonly<Record<string, string>> = {
  CredentialsProviderError: "the SDK's credential chain (the CLI without credentials)",
  ValidationError: 'CloudFormation DescribeStacks of a stack that does not exist (the CLI)',
  InternalServerError: "AWS services, retried by the SDK's strategy (core/aws-clients.ts)",
  TimeoutError: "the SDK's HTTP handler, retried by the SDK's strategy (core/aws-clients.ts)",
};

/** How a matched name is thrown: by a deployed bundle, or by the CLI's own process. */
type Thrower =
  | { readonly bundle: HandlerName; readonly run: (bundle: any) => Promise<unknown> }
  | { readonly cli: string; readonly run: () => Promise<unknown> };

const SHIFT = trafficShift.executionArn('to-green-20261125T041235Z-1a2b3c4d');
const BEGIN = {
  action: 'begin',
  executionArn: SHIFT,
  to: 'green',
  steps: [10, 50, 100],
  bakeSeconds: 300,
  requestedBy: 'alice',
};

function shiftDeps(): TrafficShiftHandler.HandlerDeps {
  const obs = trafficShift.observability('traffic-shift');
  return {
    clients: trafficShift.clients,
    env: trafficShift.ENV,
    now: () => new Date('2026-11-25T04:12:35.000Z'),
    observability: { logger: obs.logger, metrics: obs.metrics },
  };
}

async function reenable(
  aws: Parameters<ReturnType<typeof budgetGuard.spend>['budget']>[1],
): Promise<unknown> {
  // The kill switch's state is read alongside the spend: an ops table on the local engine.
  const { clients, table } = await budgetGuard.world();
  budgetGuard.spend().budget('fa-ai-system-prod-monthly', aws);
  try {
    return await reenableBatch(
      clients,
      budgetGuard.configOf(table),
      budgetGuard.SPEND_CHECK,
      { actor: 'arn:aws:sts::222222222222:assumed-role/ops/alice', reason: 'reviewed', force: false },
      { now: () => new Date('2026-12-15T09:30:00.000Z') },
    );
  } finally {
    await table.drop();
  }
}

/** One way to make each matched name happen. A name matched anywhere needs an entry here. */
const THROWERS: Readonly<Record<string, Thrower>> = {
  // The Lambda entry point itself, with its own clients and environment.
  InvalidInputError: {
    bundle: 'traffic-shift',
    run: (bundle: typeof TrafficShiftHandler) => {
      // Its own Powertools logger reports the failure, as in Lambda: not on the test's output.
      vi.spyOn(process.stderr, 'write').mockReturnValue(true);
      vi.spyOn(process.stdout, 'write').mockReturnValue(true);
      return bundle.handler({});
    },
  },
  InvalidWeightsError: {
    bundle: 'traffic-shift',
    run: (bundle: typeof TrafficShiftHandler) => {
      trafficShift.resetWorld({ listener: { blue: 1, green: 1 } });
      return bundle.handleEvent(BEGIN, shiftDeps());
    },
  },
  // The shift state machine fails with it; `npm run ops -- shift` reports a refusal.
  ShiftInProgressError: {
    bundle: 'traffic-shift',
    run: (bundle: typeof TrafficShiftHandler) => {
      trafficShift.resetWorld({
        items: [trafficShift.lockItem({ executionArn: trafficShift.executionArn('to-green-earlier') })],
      });
      return bundle.handleEvent(BEGIN, shiftDeps());
    },
  },
  // No Lambda re-enables the batch: `npm run ops -- batch enable` runs reenableBatch itself.
  BudgetStillExceededError: {
    cli: 'lib/ops/commands/batch.ts runs reenableBatch in its own process',
    run: () => reenable({ actual: '2000.0', limit: '2000.0' }),
  },
  BudgetSpendUnknownError: {
    cli: 'lib/ops/commands/batch.ts runs reenableBatch in its own process',
    run: () => reenable({ limit: '2000.0' }),
  },
  // `npm run ops -- automation pause` refuses a pause that does not end in the future.
  InvalidPauseError: {
    cli: 'lib/ops/commands/automation.ts runs pauseUntil in its own process',
    run: async () => pauseUntil('2020-01-01T00:00:00Z', new Date('2026-11-25T04:12:35.000Z')),
  },
};

function tsFiles(dir: string): string[] {
  return readdirSync(join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** The string literals of a TypeScript file, comments left out. */
function stringLiterals(file: string): string[] {
  const code = readFileSync(join(PROJECT_ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|\s)\/\/.*$/gm, '$1');
  return [...code.matchAll(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g)].map((m) => m[0]);
}

/** Error names in the string literals of the CLI (lib/ops) and of the Lambdas' and core's texts and metrics. */
function namesInSources(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of [...tsFiles('lib/ops'), ...tsFiles('lambdas'), ...tsFiles('core')]) {
    for (const literal of stringLiterals(file)) {
      for (const [name] of literal.matchAll(ERROR_NAME)) found.set(name, file);
    }
  }
  return found;
}

/** Every string of a template, Fn::Join parts included. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** Every ErrorEquals entry of the templates' state machines (Catch and Retry). */
let errorEquals: string[];

/** Names in the templates: state machines' ErrorEquals, metric names and dimensions, texts. */
function namesInTemplates(synth: Synthesized): Map<string, string> {
  const found = new Map<string, string>();
  errorEquals = [];
  for (const stack of synth.assembly.stacks) {
    for (const text of strings(stack.template)) {
      for (const m of text.matchAll(/"ErrorEquals":(\[[^\]]*\])/g)) {
        for (const name of JSON.parse(m[1] ?? '[]') as string[]) {
          errorEquals.push(name);
          if (!SERVICE_RAISED.test(name)) found.set(name, stack.stackName);
        }
      }
      for (const [name] of text.matchAll(ERROR_NAME)) found.set(name, stack.stackName);
    }
  }
  return found;
}

let matched: Map<string, string>;

beforeAll(async () => {
  matched = new Map([...namesInSources(), ...namesInTemplates(await sharedSynth())]);
  for (const name of Object.keys(RAISED_BY_OTHERS)) matched.delete(name);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('error names matched anywhere', () => {
  it("are read from the state machines' Catch and Retry", () => {
    expect(errorEquals).toEqual(expect.arrayContaining(['States.ALL', 'Lambda.ServiceException']));
  });

  it('include the refusals of the CLI and the errors of a failed shift', () => {
    expect([...matched.keys()]).toEqual(
      expect.arrayContaining(['ShiftInProgressError', 'InvalidInputError']),
    );
  });

  it('each have a thrower', () => {
    const without = [...matched].filter(([name]) => !(name in THROWERS));
    expect(without.map(([name, where]) => `${name} (matched in ${where})`)).toEqual([]);
  });

  it.each(Object.entries(THROWERS))('%s is the name of what its thrower throws', async (name, thrower) => {
    const error = await ('bundle' in thrower
      ? thrower.run(requireBundle(thrower.bundle))
      : thrower.run()
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe(name);
    expect((error as Error).constructor.name).toBe(name);
  });
});

/** The error classes of the Lambdas' sources (theirs and core's): class name -> the file declaring it. */
function errorClasses(): Map<string, string> {
  const parents = new Map<string, { parent: string; file: string }>();
  for (const file of [...tsFiles('lambdas'), ...tsFiles('core')]) {
    const code = readFileSync(join(PROJECT_ROOT, file), 'utf8');
    for (const m of code.matchAll(/\bclass (\w+) extends (\w+)/g)) {
      parents.set(m[1] as string, { parent: m[2] as string, file });
    }
  }
  const isError = (name: string): boolean =>
    name === 'Error' || (parents.has(name) && isError(parents.get(name)?.parent as string));
  return new Map([...parents].filter(([name]) => isError(name)).map(([name, { file }]) => [name, file]));
}

describe('the bundles', () => {
  it.each(HANDLERS)("%s's Lambda entry point refuses an empty event with InvalidInputError", async (name) => {
    // Its own Powertools logger and metrics report the failure, as in Lambda: not on the test's output.
    vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    vi.spyOn(process.stdout, 'write').mockReturnValue(true);
    const { handler } = requireBundle<{ handler: (event: unknown) => Promise<unknown> }>(name);

    await expect(handler(undefined)).rejects.toMatchObject({ name: 'InvalidInputError' });
  });

  it('are built with the folders the synth copies', () => {
    expect(COPY_DIRECTORIES['db-migrate']).toEqual([MIGRATIONS_DIR]);
  });

  it.each(HANDLERS)('%s keeps the name of every error class it contains', (name) => {
    const dir = bundleDir(name);
    const code = readFileSync(join(dir, 'index.js'), 'utf8');
    const map = JSON.parse(readFileSync(join(dir, 'index.js.map'), 'utf8')) as {
      sources: string[];
      names: string[];
    };
    const sources = new Set(map.sources);
    // In the bundle: declared in one of its sources and renamed by the minifier (so in `names`).
    const contained = [...errorClasses()].filter(
      ([cls, file]) => sources.has(file) && map.names.includes(cls),
    );
    expect(contained.length).toBeGreaterThan(1);
    expect(contained.filter(([cls]) => !code.includes(`"${cls}")`)).map(([cls]) => cls)).toEqual([]);
  });
});
