import { describe, expect, it } from 'vitest';
import { missingRunbookSections } from '../../scripts/check-runbook-sections';

// A runbook in the real one's shape: level-2 parts, level-3 sections, code blocks with # lines.
const RUNBOOK = [
  '# Runbook',
  '## Incident Response',
  '### P0: Complete Service Outage',
  '```bash',
  '# 1. Check ECS service status',
  '## not a heading',
  '```',
  '4. **Resource exhaustion (CPU/memory)** → Scale up task count',
  '### P1: High Error Rate',
  '## Common Issues',
  '### Issue: "High API Costs"',
].join('\n');

describe('missingRunbookSections', () => {
  it('finds headings under their part, and a step in its section', () => {
    expect(
      missingRunbookSections(RUNBOOK, {
        outage: ['Incident Response', 'P0: Complete Service Outage'],
        exhaustion: ['Incident Response', 'P0: Complete Service Outage', 'Resource exhaustion (CPU/memory)'],
        costs: ['Common Issues', 'Issue: "High API Costs"'],
      }),
    ).toEqual([]);
  });

  it('reports a heading under another part, a step of another section and a heading in a code block', () => {
    expect(
      missingRunbookSections(RUNBOOK, {
        moved: ['Common Issues', 'P1: High Error Rate'],
        step: ['Incident Response', 'P1: High Error Rate', 'Resource exhaustion (CPU/memory)'],
        fenced: ['not a heading', 'anything'],
      }),
    ).toEqual([
      'Common Issues > P1: High Error Rate',
      'Incident Response > P1: High Error Rate > Resource exhaustion (CPU/memory)',
      'not a heading > anything',
    ]);
  });
});
