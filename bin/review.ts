#!/usr/bin/env node
import { estimateAssembly, monthlyTotalsByEnvironment } from '../lib/cost';
import { REVIEW_EXIT, runReviewCli } from '../lib/review';

// Wiring only: the command line (lib/review/cli.ts), the cost estimator, the exit code.
runReviewCli(process.argv.slice(2), {
  costEstimator: async (dir) => monthlyTotalsByEnvironment(await estimateAssembly(dir)),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Exit 1 means "blocked": anything unexpected is "the review did not run".
    console.error(error);
    process.exitCode = REVIEW_EXIT.error;
  },
);
