#!/usr/bin/env -S npx tsx
/** The ops CLI: `npm run ops -- <command> --env <env> [--region <region>] [--json]` (see lib/ops/cli.ts). */
import { runCli } from '../lib/ops/cli';
import { defaultDeps } from '../lib/ops/clients';

runCli(process.argv.slice(2), defaultDeps()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // runCli never throws; this is the last resort.
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
