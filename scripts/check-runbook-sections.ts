/**
 * Checks the alarm catalogue's runbook sections (core/alarms/catalogue.ts RUNBOOK_SECTIONS)
 * against the runbook itself: each is a level-2 heading, a level-3 heading under it, and the
 * words of its step within that section. The runbook lives beside the repository
 * (`../shared/runbook.md`), not in it, so the suite cannot read it on a fresh clone; run this
 * when the runbook or a section changes:
 *
 *   npx tsx scripts/check-runbook-sections.ts ../shared/runbook.md
 *
 * Prints each section that is missing and exits 1, or says all were found.
 */
import { readFileSync } from 'node:fs';
import { RUNBOOK_SECTIONS } from '../core/alarms/catalogue';

/** The level-2 > level-3 sections of `markdown` and their text, outside code blocks. */
function sectionsOf(markdown: string): Map<string, string> {
  const sections = new Map<string, string>();
  let h2: string | undefined;
  let current: string | undefined;
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.trimStart().startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^(#{2,3}) (.+?)\s*$/.exec(line);
    if (heading?.[1] === '##') {
      h2 = heading[2];
      current = undefined;
    } else if (heading?.[1] === '###' && h2 !== undefined) {
      current = `${h2} > ${heading[2]}`;
      sections.set(current, '');
    } else if (current !== undefined) {
      sections.set(current, `${sections.get(current)}${line}\n`);
    }
  }
  return sections;
}

/** The catalogue's sections `markdown` lacks, as cited ("H2 > H3 > step"). */
export function missingRunbookSections(
  markdown: string,
  sections: Readonly<Record<string, readonly string[]>> = RUNBOOK_SECTIONS,
): string[] {
  const found = sectionsOf(markdown);
  return Object.values(sections)
    .filter(([h2, h3, step]) => {
      const text = found.get(`${h2} > ${h3}`);
      return text === undefined || (step !== undefined && !text.includes(step));
    })
    .map((path) => path.join(' > '));
}

function main(argv: readonly string[]): void {
  const path = argv[0] ?? '../shared/runbook.md';
  const missing = missingRunbookSections(readFileSync(path, 'utf8'));
  if (missing.length > 0) {
    process.stderr.write(`Not in ${path}:\n${missing.map((m) => `- ${m}`).join('\n')}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`All ${Object.keys(RUNBOOK_SECTIONS).length} runbook sections are in ${path}.\n`);
}

if (require.main === module) main(process.argv.slice(2));
