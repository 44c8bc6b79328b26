import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The project rule: files that fit in a head. */
const MAX_LINES = 600;

describe('source files', () => {
  it(`are at most ${MAX_LINES} lines each (tracked .ts and .mjs, tests included)`, () => {
    const files = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.mjs'], { encoding: 'utf8' })
      .split('\0')
      .filter((f) => f !== '');
    expect(files.length).toBeGreaterThan(100);
    const tooLong = files
      .map((file) => ({ file, lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(tooLong).toEqual([]);
  });
});
