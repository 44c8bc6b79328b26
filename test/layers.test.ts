/**
 * The layers of the tree: core/ is the bottom (the domain code a Lambda and the ops CLI both
 * run), the Lambdas, the constructs and the CLIs depend on it, never the reverse; the CLIs run
 * core's code, not a Lambda's. Only lib/constructs may reach into lambdas/ (each Lambda's
 * declared calls, which its construct grants).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

/** Every .ts file under `dir` (relative to the repository). */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** `from '...'`, `import '...'` and `import('...')`: every form an import or re-export takes. */
const SPECIFIER = /\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g;

/**
 * The repository paths a file's relative imports point into: static, type-only, re-exports and
 * dynamic `import()` alike. A pattern, not a parser (TypeScript 7 has no JavaScript API): a
 * comment that reads like an import counts too, which errs on the strict side.
 */
function importedPaths(file: string, text: string): string[] {
  return [...text.matchAll(SPECIFIER)]
    .map((m) => m[1] ?? '')
    .filter((name) => name.startsWith('.'))
    .map((name) => relative(ROOT, resolve(ROOT, dirname(file), name)));
}

/** `file: specifier` of each import of the files under `dirs` that lands in one of `forbidden`. */
function crossings(dirs: readonly string[], forbidden: readonly string[]): string[] {
  return dirs.flatMap((dir) =>
    sources(dir).flatMap((file) =>
      importedPaths(file, readFileSync(join(ROOT, file), 'utf8'))
        .filter((target) => forbidden.some((f) => target === f || target.startsWith(`${f}/`)))
        .map((target) => `${file}: ${target}`),
    ),
  );
}

describe('layers', () => {
  it('finds static, type-only, re-exported and dynamic imports', () => {
    const text = [
      "import { a } from '../../lambdas/shared/db';",
      "import type { B } from '../../lambdas/x/y';",
      "export * from '../../lib/z';",
      "const m = await import('../../lambdas/w');",
      "import { c } from 'zod';",
    ].join('\n');
    expect(importedPaths('core/db/file.ts', text)).toEqual([
      'lambdas/shared/db',
      'lambdas/x/y',
      'lib/z',
      'lambdas/w',
    ]);
  });

  it('the CLIs (lib/ops, lib/cli, bin) import nothing from lambdas/', () => {
    expect(crossings(['lib/ops', 'lib/cli', 'bin'], ['lambdas'])).toEqual([]);
  });

  it('core/ imports nothing from lib/ or lambdas/', () => {
    expect(crossings(['core'], ['lib', 'lambdas'])).toEqual([]);
  });

  it('outside lib/constructs, lib/ imports nothing from lambdas/', () => {
    const dirs = readdirSync(join(ROOT, 'lib'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'constructs')
      .map((d) => join('lib', d.name));
    const topLevel = readdirSync(join(ROOT, 'lib')).filter((f) => f.endsWith('.ts'));
    expect(crossings(dirs, ['lambdas'])).toEqual([]);
    expect(
      topLevel.flatMap((f) =>
        importedPaths(join('lib', f), readFileSync(join(ROOT, 'lib', f), 'utf8')).filter((t) =>
          t.startsWith('lambdas/'),
        ),
      ),
    ).toEqual([]);
  });
});
