import { describe, expect, it } from 'vitest';
import {
  ArgsError,
  choice,
  defineCommand,
  duration,
  flag,
  integer,
  list,
  type Program,
  parseCommandLine,
  parseOptions,
  text,
} from '../../lib/cli/args';

const OPTIONS = {
  dir: text('a directory', '<dir>').default('out'),
  count: integer('how many', { min: 1, max: 10 }),
  colour: choice(['blue', 'green'], 'a colour'),
  tags: list('tags', '<tag>', ','),
  wait: duration('how long', { units: ['s', 'm'] }),
  dryRun: flag('change nothing').short('n'),
};

function refused(run: () => unknown): ArgsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ArgsError);
    return error as ArgsError;
  }
  throw new Error('expected a refusal');
}

const refusal = (run: () => unknown): string => refused(run).message;

describe('parseOptions', () => {
  it('gives typed values, defaults for absent options and false for absent flags', () => {
    expect(parseOptions([], OPTIONS, 'usage')).toEqual({
      help: false,
      values: { dir: 'out', count: undefined, colour: undefined, tags: [], wait: undefined, dryRun: false },
    });
    const parsed = parseOptions(
      ['--count=3', '--colour', 'green', '--tags', 'a,b', '--tags', 'c', '--wait', '2m', '-n', '--dry-run'],
      OPTIONS,
      'usage',
    );
    expect(parsed).toMatchObject({
      values: { count: 3, colour: 'green', tags: ['a', 'b', 'c'], wait: 120, dryRun: true },
    });
  });

  it.each([
    [['--colour', 'red'], '--colour red: expected blue or green'],
    [['--count', '0'], '--count 0: expected a whole number 1..10'],
    [['--count', '2.5'], '--count 2.5: expected a whole number 1..10'],
    [['--wait', '1h'], '--wait 1h: expected a number and a unit (s, m), e.g. 5m'],
    [['--wait', '0s'], '--wait 0s: must be more than 0'],
    [['--dir', '  '], '--dir   : expected a value, not an empty one'],
  ])('refuses the bad value %j naming the option and what it expects', (argv, message) => {
    expect(refusal(() => parseOptions(argv, OPTIONS, 'usage'))).toBe(message);
  });

  it.each([
    [['--colours', 'blue'], "Unknown option '--colours'"],
    [['-x'], "Unknown option '-x'"],
    [['--dry-run=yes'], "--dry-run takes no value (given 'yes')"],
    [['--dir'], '--dir needs a value: <dir>'],
    [['--colour', '--dry-run'], '--colour needs a value: blue or green'],
    [
      ['--count', '-1'],
      "--count needs a value: a whole number 1..10 (to pass one starting with '-', write --count=-1)",
    ],
    [['stray'], 'Unexpected argument(s): stray'],
  ])('refuses %j naming the option', (argv, message) => {
    expect(refusal(() => parseOptions(argv, OPTIONS, 'usage'))).toBe(message);
  });

  it('refuses a missing required option, naming it and what it expects', () => {
    const options = { env: choice(['dev', 'prod'], 'the environment').required() };
    expect(refusal(() => parseOptions([], options, 'usage'))).toBe('--env is required: dev or prod');
  });

  it('carries the usage to print with the refusal', () => {
    expect(refused(() => parseOptions(['--nope'], OPTIONS, 'the usage text')).usage).toBe('the usage text');
  });

  it('answers --help and -h whatever else is wrong', () => {
    expect(parseOptions(['--nope', '--help'], OPTIONS, 'usage')).toEqual({ help: true });
    expect(parseOptions(['-h'], OPTIONS, 'usage')).toEqual({ help: true });
  });

  it('takes a value starting with a dash when written inline', () => {
    const options = { reason: text('why') };
    expect(parseOptions(['--reason=-oops'], options, 'usage')).toMatchObject({ values: { reason: '-oops' } });
  });
});

describe('parseCommandLine', () => {
  const seen: string[] = [];
  const program: Program<{ env: ReturnType<typeof envOption> }, string[], string> = {
    invocation: 'tool',
    globals: { env: envOption() },
    commands: [
      defineCommand({
        name: 'show',
        summary: 'show it',
        options: { limit: integer('how many', { min: 1, max: 5 }).default(2) },
        run: (ctx: string[], o) => {
          ctx.push(`show ${o.limit}`);
          return 'shown';
        },
      }),
      defineCommand({
        name: 'job start',
        summary: 'start the job',
        options: { reason: text('why', '"..."').required(), force: flag('even if busy') },
        run: (_ctx: string[], o) => `${o.reason} ${o.force}`,
      }),
      defineCommand({ name: 'job stop', summary: 'stop the job', options: {}, run: () => 'stopped' }),
    ],
  };
  function envOption() {
    return choice(['dev', 'prod'], 'the environment').required();
  }

  it('finds the command by its words and gives it its typed values, options in any order', () => {
    const parsed = parseCommandLine(
      ['--env', 'dev', 'job', '--force', 'start', '--reason', 'why not'],
      program,
    );
    if (parsed.help !== undefined) throw new Error('help');
    expect(parsed.command.name).toBe('job start');
    expect(parsed.globals).toEqual({ env: 'dev' });
    expect(parsed.command.run(seen, parsed.values)).toBe('why not true');
    const show = parseCommandLine(['show', '--env=prod'], program);
    if (show.help !== undefined) throw new Error('help');
    expect(show.command.run(seen, show.values)).toBe('shown');
    expect(seen).toEqual(['show 2']);
  });

  it.each([
    [[], 'No command given'],
    [['deploy', '--env', 'dev'], "Unknown command 'deploy': expected one of show, job"],
    [['job', '--env', 'dev'], 'job needs a command: start, stop'],
    [['job', 'pause', '--env', 'dev'], "Unknown job command 'pause': expected start, stop"],
    [['show', 'extra', '--env', 'dev'], 'Unexpected argument(s) for show: extra'],
    [['show', '--env', 'dev', '--force'], 'Option --force does not apply to show'],
    [['show', '--env', 'dev', '--verbose'], "Unknown option '--verbose'"],
    [['job', 'start', '--env', 'dev'], 'job start needs --reason "..."'],
    [['show', '--limit', '9'], '--env is required: dev or prod'],
    [['show', '--env', 'qa'], '--env qa: expected dev or prod'],
  ])('refuses %j', (argv, message) => {
    expect(refusal(() => parseCommandLine(argv, program))).toBe(message);
  });

  it("prints a command's own usage with its refusal, and the program's for an unknown command", () => {
    const { usage } = refused(() => parseCommandLine(['job', 'start', '--env', 'dev'], program));
    expect(usage).toMatch(/^Usage: tool job start --reason "\.\.\." \[--force\] --env <dev\|prod>/);
    expect(usage).toContain('--reason "..."  why (required)');
    expect(refused(() => parseCommandLine(['deploy'], program)).usage).toMatch(/^Usage: tool <command>/);
  });

  it('answers --help with the help of the command, the group or the program', () => {
    expect(parseCommandLine(['job', 'start', '--help'], program)).toEqual({
      help: expect.stringMatching(/^Usage: tool job start .*\n\nStart the job\.\n/),
    });
    const group = parseCommandLine(['job', '-h'], program).help ?? '';
    expect(group).toContain('job stop');
    expect(group).not.toContain('show');
    expect(parseCommandLine(['--help'], program).help).toMatch(
      /Commands:\n {2}show \[--limit <n>\] +show it/,
    );
  });

  it('refuses a program that declares one option name with two types', () => {
    const broken = {
      ...program,
      commands: [
        ...program.commands,
        defineCommand({ name: 'other', summary: 'x', options: { force: text('a text') }, run: () => '' }),
      ],
    };
    expect(() => parseCommandLine(['show', '--env', 'dev'], broken)).toThrow(
      'Option --force of other is declared with another type elsewhere',
    );
  });
});
