/**
 * The README's alarm table, generated from the alarm catalogue (core/alarms/catalogue.ts) and
 * the synthesized prod service template: each alarm's id, severity, automated response and
 * dashboard row from the catalogue, its meaning with prod's figures from the alarm's own
 * description (which must read as the catalogue says: severity first, runbook section last).
 * `npm run alarm-table` synthesizes, then runs this with `--readme README.md`, replacing the
 * text between `<!-- alarms:start -->` and `<!-- alarms:end -->`. Options: `--assembly <dir>`
 * (default cdk.out). test/stacks/alarm-table.test.ts fails when the README's table is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALARM_IDS,
  type AlarmEntry,
  alarmEntry,
  DASHBOARD_ROWS,
  runbookReference,
} from '../core/alarms/catalogue';

interface Template {
  readonly Resources?: Record<
    string,
    { readonly Type: string; readonly Properties?: Record<string, unknown> }
  >;
}

const START = '<!-- alarms:start -->';
const END = '<!-- alarms:end -->';

/** What the automation does, in the table's words. */
function responseText(id: string, entry: AlarmEntry): string {
  switch (entry.response) {
    case 'none': {
      const composite = ALARM_IDS.find((other) => alarmEntry(other).anyOf?.includes(id));
      return composite === undefined ? 'none (it pages)' : `none (pages through \`${composite}\`)`;
    }
    case 'new-deployment':
      return 'new deployment of the live colour';
    case 'scale-out':
      return `scale ${entry.colour ?? 'the live colour'} out, when live`;
    case 'traffic-rollback':
      return 'roll back a recent traffic shift';
  }
}

/**
 * The meaning in `description` as the factory wrote it: the text between the severity and the
 * first step or runbook section. Throws when the description does not read as the catalogue says.
 */
export function meaningIn(id: string, entry: AlarmEntry, description: string): string {
  const head = `${entry.severity} `;
  const firstStep = entry.firstStep === undefined ? '' : `. ${entry.firstStep}`;
  const tail = `${firstStep}. Runbook: ${runbookReference(entry.runbook)}.`;
  if (!description.startsWith(head) || !description.endsWith(tail)) {
    throw new Error(`alarm ${id}: its description "${description}" is not "${head}<meaning>${tail}"`);
  }
  return description.slice(head.length, -tail.length);
}

/** " (2 × 5 min)": how long a metric alarm's condition must hold; nothing for a composite. */
function windowOf(properties: Record<string, unknown>): string {
  const periods = Number(properties.EvaluationPeriods);
  const metrics = (properties.Metrics ?? []) as Array<{ Period?: number; MetricStat?: { Period?: number } }>;
  const period = metrics.map((m) => m.Period ?? m.MetricStat?.Period).find((p) => p !== undefined);
  const seconds = Number(properties.Period ?? period ?? 0);
  if (!Number.isFinite(periods) || seconds <= 0) return '';
  return ` (${periods} × ${seconds / 60} min)`;
}

/** The Markdown table of every alarm, with the descriptions of `template` (prod's service stack). */
export function renderAlarmTable(template: Template, namePrefix: string): string {
  const byName = new Map(
    Object.values(template.Resources ?? {})
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::CompositeAlarm')
      .map((r) => [String(r.Properties?.AlarmName), r.Properties ?? {}]),
  );
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = ALARM_IDS.map((id) => {
    const entry = alarmEntry(id);
    const properties = byName.get(`${namePrefix}${id}`);
    if (properties === undefined) throw new Error(`alarm ${namePrefix}${id} is not in the template`);
    const meaning = meaningIn(id, entry, String(properties.AlarmDescription));
    const firstStep = entry.firstStep === undefined ? '' : `. ${entry.firstStep}`;
    return `| \`${id}\` | ${entry.severity} | ${cell(meaning)}${windowOf(properties)}${cell(firstStep)} | ${cell(
      runbookReference(entry.runbook),
    )} | ${responseText(id, entry)} | ${entry.dashboard} |`;
  });
  return [
    '| alarm id | severity | fires when (prod) | runbook section | automated response | dashboard row |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Dashboard rows: ${Object.entries(DASHBOARD_ROWS)
      .map(([key, title]) => `\`${key}\` "${title}"`)
      .join(', ')}.`,
  ].join('\n');
}

/** `text` with the block between the alarm table markers replaced by `table`. */
export function replaceAlarmTable(text: string, table: string): string {
  const i = text.indexOf(START);
  const j = text.indexOf(END);
  if (i < 0 || j < i) throw new Error(`markers ${START} ... ${END} not found`);
  return `${text.slice(0, i + START.length)}\n\n${table.trimEnd()}\n\n${text.slice(j)}`;
}

function main(argv: readonly string[]): void {
  const option = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const assembly = option('--assembly') ?? 'cdk.out';
  const template = JSON.parse(
    readFileSync(join(assembly, 'fa-ai-system-prod-service.template.json'), 'utf8'),
  ) as Template;
  const table = renderAlarmTable(template, 'fa-ai-system-prod-');
  const readme = option('--readme');
  if (readme) writeFileSync(readme, replaceAlarmTable(readFileSync(readme, 'utf8'), table));
  process.stdout.write(`${table}\n`);
}

if (require.main === module) main(process.argv.slice(2));
