#!/usr/bin/env node
import { runCostCli } from '../lib/cost';

// Wiring only: `npm run cost -- --help` documents the flags.
runCostCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
