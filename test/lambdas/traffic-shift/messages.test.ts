import { describe, expect, it } from 'vitest';
import { abortNotice, finishNotice, rollbackNotice } from '../../../lambdas/traffic-shift/messages';

const BASE = {
  environment: 'prod',
  to: 'green',
  weightsParameter: '/fa-ai-system/prod/traffic/weights',
  executionArn: 'arn:aws:states:us-east-1:123456789012:execution:shift:1',
};

describe('traffic shift notices', () => {
  it('says a rollback restored the weights, or that writing them failed and what to run', () => {
    const facts = {
      ...BASE,
      why: 'alarms p0 firing',
      from: { blue: 100, green: 0 },
      problems: [],
      verification: undefined,
    };
    const done = rollbackNotice({ ...facts, writeError: undefined });
    expect(done.subject).toBe('[prod] Traffic shift to green ROLLED BACK');
    expect(done.lines).toContain(
      'Weights restored to: blue 100 / green 0 (listener and /fa-ai-system/prod/traffic/weights).',
    );
    const failed = rollbackNotice({
      ...facts,
      writeError: 'AccessDenied: no',
      problems: ['release the lock: x'],
    });
    expect(failed.subject).toBe('[prod] Traffic shift to green: ROLLBACK FAILED');
    expect(failed.lines[0]).toContain('writing the weights FAILED: AccessDenied: no');
    expect(failed.lines).toContain('- release the lock: x');
    expect(failed.lines.at(-1)).toContain('npm run ops -- rollback');
  });

  it('names the weights a completed shift went from and to', () => {
    const notice = finishNotice({
      ...BASE,
      requestedBy: 'alice',
      fromText: 'blue 100 / green 0',
      final: { blue: 0, green: 100 },
    });
    expect(notice.subject).toBe('[prod] Traffic shift to green completed');
    expect(notice.lines).toContain('Weights: blue 100 / green 0 -> blue 0 / green 100.');
  });

  it('says why an abort restored nothing', () => {
    const notice = abortNotice({
      ...BASE,
      why: 'aborted: States.Timeout',
      restore: null,
      writeError: undefined,
      ours: false,
      failures: [],
    });
    expect(notice.subject).toBe('[prod] Traffic shift to green ABORTED');
    expect(notice.lines[2]).toBe(
      'No weights restored (this execution is not the recorded in-progress shift).',
    );
  });
});
