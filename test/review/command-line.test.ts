import { describe, expect, it } from 'vitest';
import { REVIEW_EXIT, runReviewCli } from '../../lib/review';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReviewCli(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('review command line', () => {
  it.each([
    [['--base', 'a', '--head', 'b', '--allow-all'], "review: Unknown option '--allow-all'"],
    [
      ['--base', 'a', '--head', 'b', '--base-synth', 'maybe'],
      'review: --base-synth maybe: expected ok or failed',
    ],
    [['--base', 'a', '--head', 'b', '--json=1'], "review: --json takes no value (given '1')"],
    [['--base', '--head', 'b'], 'review: --base needs a value: <dir>'],
    [['--base', 'a', '--head'], 'review: --head needs a value: <dir>'],
    [['--base', 'a'], 'review: --head is required: <dir>'],
    [['--base', 'a', '--head', 'b', 'extra'], 'review: Unexpected argument(s): extra'],
  ])('refuses %j with exit 2, naming the option, and the usage', async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(REVIEW_EXIT.error);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: npm run review');
    expect(result.stdout).toBe('');
  });

  it('passes a valid command line on to the review (which then names the missing assembly)', async () => {
    const result = await run(['--base', '/nonexistent/base', '--head', '/nonexistent/head', '-o', 'r.md']);
    expect(result.code).toBe(REVIEW_EXIT.error);
    expect(result.stderr).toBe('review: assembly directory not found: /nonexistent/base\n');
  });

  it('--help prints every option (exit 0)', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(REVIEW_EXIT.ok);
    for (const option of ['--base <dir>', '-o, --output <file>', '--json-output <file>', '--allow <match>'])
      expect(result.stdout).toContain(option);
  });
});
