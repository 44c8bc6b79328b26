import {
  CHANGE_CLASSES,
  type ChangeClass,
  type ChangeReview,
  type EnvironmentReview,
  type FailedSynth,
  type Finding,
  type ReviewResult,
  type StackReview,
} from './types';

/** The first line of the comment: the workflow finds its own comment by it, to update it. */
export const REVIEW_MARKER = '<!-- fa-ai-infra-review -->';

/** GitHub rejects issue and pull request comments longer than this (characters). */
export const GITHUB_COMMENT_LIMIT = 65_536;

// Headroom under the limit, in case GitHub counts a character differently from JavaScript.
const DEFAULT_MAX_LENGTH = GITHUB_COMMENT_LIMIT - 512;

/** Rendering options. */
export interface MarkdownOptions {
  /** The longest comment to produce; a little under GitHub's limit by default. */
  readonly maxLength?: number;
}

const CLASS_LABEL: Readonly<Record<ChangeClass, string>> = {
  BLOCKER: '⛔ Blocker',
  SECURITY: '🔐 Security',
  REVIEW: '🔎 Review',
  ROUTINE: 'Routine',
  'ASSET-ONLY': '📦 Asset-only',
};
const CLASS_ICON: Readonly<Record<ChangeClass, string>> = {
  BLOCKER: '⛔',
  SECURITY: '🔐',
  REVIEW: '🔎',
  ROUTINE: '•',
  'ASSET-ONLY': '📦',
};
const CELL_VALUE_CHARS = 80;

/** Plain text with the characters Markdown or HTML would interpret escaped. */
function text(value: string): string {
  return value.replace(/[\\`*_[\]<>|~]/g, '\\$&');
}

/** An inline code span that survives backticks in the value. */
function code(value: string): string {
  const flat = value.replace(/\s*\n\s*/g, ' ');
  const fence = flat.includes('`') ? '``' : '`';
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Table cell content: a pipe would end the cell, even inside a code span. */
function cell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function shorten(value: string, max: number): string {
  return value.length > max ? `${value.slice(0)}…` : value;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

function usd(value: number | undefined): string {
  if (value === undefined) return 'n/a';
  const sign = value < 0 ? '−' : '';
  return `${sign}$${Math.abs(value).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function signedUsd(value: number | undefined): string {
  if (value === undefined) return 'n/a';
  return value > 0 ? `+${usd(value)}` : value === 0 ? '±$0.00' : usd(value);
}

/** `env · stack · id type · path` of a change, for the summary lists. */
function changeName(change: ChangeReview): string {
  const parts = [
    `**${text(change.environment)}**`,
    code(change.stack),
    `${code(change.logicalId)} ${code(change.resourceType)}`,
  ];
  if (change.constructPath) parts.push(code(change.constructPath));
  return parts.join(' · ');
}

function acknowledgementText(change: ChangeReview): string {
  const ack = change.acknowledgement;
  if (!ack) return '';
  const until = ack.expires ? `, until ${ack.expires}` : '';
  return ` — ✅ **acknowledged** (${code(ack.match)} in ${code(ack.source)}${until}): ${text(ack.reason)}`;
}

function reasonsOf(change: ChangeReview, cls: ChangeClass): string {
  return change.reasons
    .filter((r) => r.class === cls)
    .map((r) => text(r.text))
    .join('; ');
}

function findingLine(finding: Finding): string {
  const description = shorten(finding.description.split('\n')[0] ?? '', 200);
  return `**${text(finding.environment)}** · ${text(finding.plugin)} ${code(finding.rule)} · ${code(finding.constructPath || '(no construct)')}${description ? `: ${text(description)}` : ''}`;
}

function capped<T>(items: readonly T[], cap: number, line: (item: T) => string): string[] {
  const shown = items.slice(0, cap).map((item) => `- ${line(item)}`);
  if (items.length > cap) shown.push(`- … and ${items.length - cap} more (see the details, or \`--json\`)`);
  return shown;
}

function environmentLabel(env: EnvironmentReview): string {
  const status = env.status === 'added' ? ' (new)' : env.status === 'removed' ? ' (removed)' : '';
  return `${text(env.name)}${status}`;
}

function isEmpty(result: ReviewResult): boolean {
  return (
    CHANGE_CLASSES.every((c) => result.counts[c] === 0) &&
    result.environments.every((e) => e.findings.added.length === 0 && e.findings.fixed.length === 0)
  );
}

/** A fenced block that no backtick run in the text can close early. */
function fenced(value: string): string[] {
  const longest = Math.max(2, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}text`, value, fence];
}

/** What a failed synth means for this comparison, and what makes the job pass again. */
function failedSynthNotice(failed: FailedSynth, result: ReviewResult): string[] {
  const label = failed.side === 'base' ? (result.base.label ?? result.base.directory) : undefined;
  const who = failed.side === 'base' ? `the base (${code(label ?? '')})` : 'the pull request';
  const meaning =
    failed.side === 'head'
      ? failed.assembly
        ? 'It still wrote its cloud assembly (policy validation such as cdk-nag fails after the templates are written), so the review below compares what it wrote, but this pull request does not deploy as it is. The job fails until it synthesizes.'
        : 'It wrote no cloud assembly: nothing was compared, so this comment cannot say what merging changes. The job fails until it synthesizes.'
      : failed.assembly
        ? 'The review below compares the pull request with the assembly the base wrote anyway: its changes are real, but the base itself does not deploy, and findings listed as fixed may be what broke it. The job fails: fix the base branch, then re-run this review.'
        : 'It wrote no cloud assembly: there is nothing to compare the pull request with, so no change is listed, which does not mean there is none. The job fails: fix the base branch, then re-run this review.';
  const lines = ['> [!CAUTION]', `> **\`cdk synth\` of ${who} failed.** ${meaning}`, ''];
  if (failed.logTail) {
    lines.push(`<details open><summary>End of the ${failed.side} synth's output</summary>`, '');
    lines.push(...fenced(failed.logTail), '', '</details>', '');
  } else {
    lines.push('Its output is in the job log.', '');
  }
  return lines;
}

function failedSynthTitle(failed: readonly FailedSynth[]): string {
  const names = failed.map((f) => (f.side === 'base' ? 'the base' : 'the pull request'));
  return `## Infrastructure review: ❌ \`cdk synth\` of ${names.join(' and ')} failed`;
}

function headline(result: ReviewResult): string[] {
  const { total, unacknowledged } = result.blockers;
  const base = result.base.label ?? result.base.directory;
  const head = result.head.label ?? result.head.directory;
  const lines = [REVIEW_MARKER];
  const failed = result.failedSynths;
  if (failed.length > 0) {
    lines.push(failedSynthTitle(failed));
  } else if (unacknowledged > 0) {
    const acked = total - unacknowledged;
    lines.push(
      `## Infrastructure review: ⛔ ${plural(unacknowledged, 'unacknowledged blocker')}${acked > 0 ? ` (${acked} acknowledged)` : ''}`,
    );
  } else if (isEmpty(result)) {
    lines.push('## Infrastructure review: no changes');
  } else {
    lines.push(
      `## Infrastructure review: ✅ ${total > 0 ? `${plural(total, 'blocker')}, all acknowledged` : 'no blockers'}`,
    );
  }
  const scope = result.compared ? ', every stack of every environment diffed offline' : ': not diffed';
  lines.push(`<sub>base ${code(base)} → head ${code(head)}${scope}</sub>`, '');
  // Before any summary: a count of zero under a failed synth would read as a pass.
  for (const f of failed) lines.push(...failedSynthNotice(f, result));
  if (!result.compared) return lines;
  if (failed.length > 0 && unacknowledged > 0) {
    lines.push(`**Also ${plural(unacknowledged, 'unacknowledged blocker')}** (listed below).`, '');
  }
  if (isEmpty(result)) {
    lines.push(
      failed.length > 0
        ? '**No changes** between the two assemblies.'
        : '**No changes.** Base and head synthesize the same templates for every stack of every environment, with the same cdk-nag and CloudFormation Validate findings. Deploying this pull request changes nothing.',
    );
  } else if (unacknowledged > 0) {
    lines.push(
      'A blocker destroys or replaces a stateful resource, or removes its deletion protection or encryption. If it is intended, acknowledge it in `review-acknowledgements.json` (`match`, `reason`, `expires`) or with `--allow`.',
    );
  }
  return lines;
}

function countsTable(result: ReviewResult): string[] {
  const withFindings = result.environments.some((e) => e.findings.added.length + e.findings.fixed.length > 0);
  const header = ['Environment', ...CHANGE_CLASSES.map((c) => CLASS_LABEL[c]), 'Findings new / fixed'];
  const rows = result.environments.map((env) => {
    const counts = CHANGE_CLASSES.map((c) => String(env.counts[c]));
    const findings = `+${env.findings.added.length} / −${env.findings.fixed.length}`;
    return [environmentLabel(env), ...counts, findings];
  });
  const columns = withFindings ? header.length : header.length - 1;
  const line = (cells: readonly string[]) => `| ${cells.slice(0, columns).join(' | ')} |`;
  return [
    line(header),
    line(['---', ...CHANGE_CLASSES.map(() => '--:'), '--:']),
    ...rows.map(line),
    '',
    '<sub>⛔ destroys or replaces stateful data, or removes its protection or encryption · 🔐 widens IAM, opens ingress or drops TLS · 🔎 other replacements and removals · Routine: updates and additions · 📦 only asset hashes move (Lambda code, images): never destructive</sub>',
  ];
}

function costSection(result: ReviewResult): string[] {
  const envs = result.environments.filter((e) => e.cost);
  if (envs.length === 0 && !result.costError) return [];
  const lines = ['', '#### Estimated monthly cost'];
  if (result.costError) lines.push(`Cost estimate unavailable: ${text(result.costError)}`);
  if (envs.length > 0) {
    lines.push('| Environment | Base | Head | Delta |', '|---|--:|--:|--:|');
    for (const env of envs) {
      lines.push(
        `| ${environmentLabel(env)} | ${usd(env.cost?.baseUsd)} | ${usd(env.cost?.headUsd)} | ${signedUsd(env.cost?.deltaUsd)} |`,
      );
    }
  }
  return lines;
}

function summaryLists(result: ReviewResult, cap: number): string[] {
  const all = result.environments.flatMap((e) => e.stacks.flatMap((s) => s.changes));
  const lines: string[] = [];
  const blockers = all.filter((c) => c.classification === 'BLOCKER');
  if (blockers.length > 0) {
    lines.push('', '#### ⛔ Blockers');
    lines.push(
      ...capped(
        blockers,
        cap,
        (c) => `${changeName(c)}: ${reasonsOf(c, 'BLOCKER')}${acknowledgementText(c)}`,
      ),
    );
  }
  const security = all.filter((c) => c.classification === 'SECURITY');
  if (security.length > 0) {
    lines.push('', '#### 🔐 Security');
    lines.push(...capped(security, cap, (c) => `${changeName(c)}: ${reasonsOf(c, 'SECURITY')}`));
  }
  // A removed stack's resources are one line: listing each says nothing more than its removal.
  const removedStacks = result.environments.flatMap((e) => e.stacks.filter((s) => s.status === 'removed'));
  const inRemovedStack = new Set(removedStacks.map((s) => s.name));
  const review = all.filter((c) => c.classification === 'REVIEW' && !inRemovedStack.has(c.stack));
  if (review.length + removedStacks.length > 0) {
    lines.push('', '#### 🔎 Replacements and removals');
    for (const stack of removedStacks) {
      const destroyed = stack.changes.filter((c) => c.action === 'destroy').length;
      const orphaned = stack.changes.filter((c) => c.action === 'orphan').length;
      lines.push(
        `- **${text(stack.environment)}** · ${code(stack.name)} is removed from the app: ${plural(destroyed, 'resource')} destroyed, ${orphaned} orphaned (retained) when the stack is deleted`,
      );
    }
    lines.push(...capped(review, cap, (c) => `${changeName(c)}: ${reasonsOf(c, 'REVIEW')}`));
  }
  const added = result.environments.flatMap((e) => e.findings.added);
  const fixed = result.environments.flatMap((e) => e.findings.fixed);
  if (added.length + fixed.length > 0) {
    lines.push('', '#### cdk-nag and CloudFormation Validate findings');
    if (added.length > 0) lines.push(`**New (${added.length})**`, ...capped(added, cap, findingLine));
    if (fixed.length > 0) lines.push(`**Fixed (${fixed.length})**`, ...capped(fixed, cap, findingLine));
  }
  if (result.staleAcknowledgements.length > 0) {
    lines.push('', '#### Acknowledgements that did not apply');
    lines.push(
      ...capped(result.staleAcknowledgements, cap, (a) => {
        const problem = a.problem === 'expired' ? `expired ${a.expires}` : 'matches no blocker';
        return `${code(a.match)} in ${code(a.source)} (${problem}): ${text(a.reason)}`;
      }),
    );
  }
  return lines;
}

function changeCell(change: ChangeReview): string {
  const parts = change.reasons.filter((r) => r.class !== 'ROUTINE').map((r) => text(r.text));
  if (change.acknowledgement) parts.push(`✅ acknowledged: ${text(change.acknowledgement.reason)}`);
  if (change.classification === 'ASSET-ONLY' && change.replacementCauses.length > 0) {
    parts.push(...change.replacementCauses.map(text));
  }
  const props = change.propertyChanges.map((p) => {
    const from = p.oldValue === undefined ? '' : code(shorten(p.oldValue, CELL_VALUE_CHARS));
    const to = p.newValue === undefined ? '' : code(shorten(p.newValue, CELL_VALUE_CHARS));
    const arrow = from && to ? `${from} → ${to}` : from ? `${from} removed` : `${to} added`;
    return `${code(p.name)}: ${arrow}`;
  });
  return cell([...parts, ...props].join('<br>'));
}

function relativePath(change: ChangeReview): string {
  if (!change.constructPath) return '';
  const prefix = `${change.stack}/`;
  return code(
    change.constructPath.startsWith(prefix)
      ? change.constructPath.slice(prefix.length)
      : change.constructPath,
  );
}

const STACK_NOTES: Readonly<Record<StackReview['status'], string>> = {
  added: 'new stack: every resource is created',
  removed:
    'removed from the app. `cdk deploy` leaves the deployed stack alone; these are the changes when it is deleted (`cdk destroy`)',
  changed: '',
  unchanged: '',
};

function detailsSection(env: EnvironmentReview, shown: ReadonlySet<ChangeReview>): string[] {
  const changed = env.stacks.filter((s) => s.status !== 'unchanged');
  const total = env.stacks.reduce((n, s) => n + s.changes.length, 0);
  if (changed.length === 0) return [];
  const summary = `<b>${text(env.name)}</b>: ${plural(total, 'change')} in ${changed.length} of ${plural(env.stacks.length, 'stack')}`;
  const lines = ['', `<details><summary>${summary}</summary>`, ''];
  for (const stack of changed) {
    const note = STACK_NOTES[stack.status];
    lines.push(`**${code(stack.name)}**${note ? `: ${note}` : ''}`, '');
    const rows = stack.changes.filter((c) => shown.has(c));
    if (rows.length > 0) {
      lines.push(
        '| Class | Action | Logical id | Type | Construct path | What changes |',
        '|---|---|---|---|---|---|',
      );
      for (const change of rows) {
        lines.push(
          `| ${CLASS_ICON[change.classification]} ${change.classification} | ${change.action} | ${cell(code(change.logicalId))} | ${cell(code(change.resourceType))} | ${cell(relativePath(change))} | ${changeCell(change)} |`,
        );
      }
    }
    const hidden = stack.changes.length - rows.length;
    if (hidden > 0) lines.push('', `… ${plural(hidden, 'more change')} not shown (comment size limit).`);
    lines.push('');
  }
  lines.push('</details>');
  return lines;
}

function orderedChanges(result: ReviewResult): ChangeReview[] {
  const all = result.environments.flatMap((e) => e.stacks.flatMap((s) => s.changes));
  // Stable sort: most severe first, in stack order within a class.
  return all
    .map((change, index) => ({ change, index }))
    .sort(
      (a, b) =>
        CHANGE_CLASSES.indexOf(a.change.classification) - CHANGE_CLASSES.indexOf(b.change.classification) ||
        a.index - b.index,
    )
    .map((x) => x.change);
}

function render(result: ReviewResult, detailRows: number, listCap: number): string {
  const ordered = orderedChanges(result);
  const shown = new Set(ordered.slice(0, detailRows));
  const omitted = ordered.length - shown.size;
  const lines = [...headline(result)];
  if (!result.compared) return `${lines.join('\n').trimEnd()}\n`;
  if (!isEmpty(result)) {
    lines.push('', ...countsTable(result), ...summaryLists(result, listCap), ...costSection(result));
    const listsCapped = listCap !== Number.POSITIVE_INFINITY;
    if (omitted > 0 || listsCapped) {
      const lists = listsCapped ? `, and the lists above stop after ${listCap} entries` : '';
      lines.push(
        '',
        '> [!WARNING]',
        `> **Trimmed**: ${plural(omitted, 'change')} of ${ordered.length} ${omitted === 1 ? 'is' : 'are'} left out of the details${lists}, to stay under GitHub's comment size limit (${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')} characters). Everything is in \`npm run review -- --json\` (and the workflow's review artifact).`,
      );
    }
    if (ordered.length > 0) {
      lines.push('', '### Details');
      for (const env of result.environments) lines.push(...detailsSection(env, shown));
    }
  } else {
    lines.push(...costSection(result));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The pull request comment: the hidden marker, a summary per environment (counts per class,
 * blockers, security changes, replacements, findings delta, cost), then the details folded.
 * Details, then summary lists, are trimmed (and the comment says so) to fit `maxLength`.
 */
export function renderMarkdown(result: ReviewResult, options: MarkdownOptions = {}): string {
  const max = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const total = orderedChanges(result).length;
  const full = render(result, total, Number.POSITIVE_INFINITY);
  if (full.length <= max) return full;

  // Largest number of detail rows that fits (rows go in severity order).
  let [low, high] = [0, total - 1];
  let best: string | undefined;
  while (low <= high) {
    const mid = Math.floor((low + high) / 2);
    const candidate = render(result, mid, Number.POSITIVE_INFINITY);
    if (candidate.length <= max) {
      best = candidate;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  if (best) return best;
  for (const cap of [50, 20, 5, 0]) {
    const candidate = render(result, 0, cap);
    if (candidate.length <= max) return candidate;
  }
  const notice = `\n\n> [!WARNING]\n> **Cut off** at GitHub's comment limit. Everything is in \`npm run review -- --json\`.\n`;
  return render(result, 0, 0).slice(0, Math.max(0, max - notice.length)) + notice;
}

/** The review as JSON, for machines: everything, untrimmed. */
export function renderJson(result: ReviewResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
