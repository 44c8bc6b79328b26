import { describe, expect, it } from 'vitest';
import { runCli } from '../../lib/ops/cli';
import { OPS_COMMANDS } from '../../lib/ops/commands';

/** Runs the CLI with clients that must not be built: a refused command line calls nothing. */
async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  let built = 0;
  const code = await runCli(argv, {
    clients: () => {
      built++;
      throw new Error('no AWS for a refused command line');
    },
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    now: () => new Date('2026-11-25T04:00:00.000Z'),
    sleep: async () => {},
    env: {},
  });
  return { code, stdout, stderr, built };
}

describe('ops command line', () => {
  it.each([
    [['shift', '--env', 'prod', '--to', 'green', '--bake-time', '5m'], "Unknown option '--bake-time'"],
    [['batch', 'status', '--env', 'prod', '--limit', '0'], '--limit 0: expected a whole number 1..1000'],
    [['health', '--env', 'prod', '--kind', 'evening'], '--kind evening: expected morning or light'],
    [
      ['remediation', 'log', '--env', 'prod', '--since', '5s'],
      '--since 5s: expected a number and a unit (m, h, d)',
    ],
    [['weights', '--env', 'prod', '--region', 'mars'], '--region mars: not an AWS region such as us-east-1'],
    [['weights', '--env', 'prod', '--json=yes'], "--json takes no value (given 'yes')"],
    [['shift', '--env', 'prod', '--to'], '--to needs a value: blue or green'],
    [['weights', '--env'], '--env needs a value: one of dev, staging, prod'],
    [['batch', 'disable', '--env', 'prod', '--reason', '--json'], '--reason needs a value: "..."'],
  ])('refuses %j (exit 2) naming the option, with the usage, calling nothing', async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: npm run ops --');
    expect(result.built).toBe(0);
  });

  it("prints the command's own usage after its refusal", async () => {
    const result = await run(['batch', 'enable', '--env', 'prod']);
    expect(result.stderr).toContain('batch enable needs --reason "..."');
    expect(result.stderr).toContain(
      'Usage: npm run ops -- batch enable --reason "..." [--force] [--yes] --env',
    );
    expect(result.stderr).not.toContain('Commands:');
  });

  it.each(OPS_COMMANDS.map((c) => [c.name]))(
    '%s --help prints its usage and options (exit 0)',
    async (name) => {
      const command = OPS_COMMANDS.find((c) => c.name === name);
      const result = await run([...name.split(' '), '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: npm run ops -- ${name}\\b`));
      for (const option of Object.keys(command?.options ?? {}))
        expect(result.stdout).toContain(`--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      expect(result.stdout).toContain('--env <dev|staging|prod>');
      expect(result.built).toBe(0);
    },
  );

  it('lists every command in the overall help', async () => {
    const result = await run(['--help']);
    for (const command of OPS_COMMANDS) expect(result.stdout).toContain(`  ${command.name}`);
  });
});
