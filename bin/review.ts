#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { estimateAssembly, monthlyTotalsByEnvironment } from '../lib/cost';
import { REVIEW_EXIT, REVIEW_USAGE, runReviewCommand } from '../lib/review';

// Wiring only: parse the command line, run the review, exit with its code.
async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine();
  } catch (error) {
    console.error(`review: ${(error as Error).message}\n\n${REVIEW_USAGE}`);
    return REVIEW_EXIT.error;
  }
  const { values } = parsed;
  return runReviewCommand(
    {
      ...values,
      jsonOutput: values['json-output'],
      baseLabel: values['base-label'],
      headLabel: values['head-label'],
      baseSynth: values['base-synth'],
      headSynth: values['head-synth'],
      baseSynthLog: values['base-synth-log'],
      headSynthLog: values['head-synth-log'],
    },
    { costEstimator: async (dir) => monthlyTotalsByEnvironment(await estimateAssembly(dir)) },
  );
}

function parseCommandLine() {
  return parseArgs({
    options: {
      base: { type: 'string' },
      head: { type: 'string' },
      output: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
      'json-output': { type: 'string' },
      allow: { type: 'string', multiple: true },
      acknowledgements: { type: 'string' },
      'base-label': { type: 'string' },
      'head-label': { type: 'string' },
      'base-synth': { type: 'string' },
      'head-synth': { type: 'string' },
      'base-synth-log': { type: 'string' },
      'head-synth-log': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Exit 1 means "blocked": anything unexpected is "the review did not run".
    console.error(error);
    process.exitCode = REVIEW_EXIT.error;
  },
);
