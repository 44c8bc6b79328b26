/**
 * The Lambda bundles as `cdk synth` makes them (LocalEsbuild of lib/lambda-bundling.ts), built
 * once per test run and loaded with require(), so tests run what deploys.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LocalEsbuild, PROJECT_ROOT } from '../../lib/lambda-bundling';
import type { HandlerName } from '../fault-matrix/matrix';

/** What each function's AppFunction passes to LocalEsbuild (checked against the constructs). */
export const COPY_DIRECTORIES: Readonly<Record<HandlerName, readonly string[]>> = {
  'budget-guard': [],
  'spend-guard': [],
  'health-check': [],
  'traffic-shift': [],
  'traffic-rollback': [],
  remediation: [],
  'db-migrate': ['lambdas/db-migrate/migrations'],
  'db-maintenance': [],
  'db-inspect': [],
  'spend-reconcile': [],
  'automation-verify': [],
};

// Inside the project's node_modules: the bundle's require('@aws-sdk/...') (left to the Lambda
// runtime) finds the project's SDK, the very modules aws-sdk-client-mock patches.
const CACHE = join(PROJECT_ROOT, 'node_modules', '.cache', 'fa-ai-bundles');

// Vitest's workers are children of one process per run: its pid names the run, so the two
// workers share each bundle and a later run never sees an earlier run's.
const RUN = join(CACHE, `run-${process.ppid}`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Bundles of runs that have ended. */
function removeStaleRuns(): void {
  if (!existsSync(CACHE)) return;
  for (const entry of readdirSync(CACHE)) {
    const pid = Number(/^run-(\d+)$/.exec(entry)?.[1]);
    if (Number.isInteger(pid) && pid !== process.ppid && !alive(pid)) {
      rmSync(join(CACHE, entry), { recursive: true, force: true });
    }
  }
}

/** The folder of the function's bundle (index.js, index.js.map, copied folders), built on first use. */
export function bundleDir(name: HandlerName): string {
  const dir = join(RUN, name);
  if (existsSync(dir)) return dir;
  removeStaleRuns();
  mkdirSync(RUN, { recursive: true });
  // Built aside and renamed into place, so a worker never reads another's half-written bundle.
  const building = mkdtempSync(join(RUN, `.${name}-`));
  new LocalEsbuild(name, COPY_DIRECTORIES[name]).tryBundle(building);
  try {
    renameSync(building, dir);
  } catch (error) {
    // The other worker finished the same bundle first: the same bytes, keep theirs.
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
  return dir;
}

/**
 * The function's bundle loaded as the Lambda runtime loads it (require, Node 22), typed as the
 * handler module it was built from: it exports the same names.
 */
export function requireBundle<M>(name: HandlerName): M {
  if (!process.versions.node.startsWith('22.')) {
    throw new Error(`bundles run on Node 22 (the Lambda runtime's major), not ${process.versions.node}`);
  }
  const file = join(bundleDir(name), 'index.js');
  return createRequire(file)(file) as M;
}
