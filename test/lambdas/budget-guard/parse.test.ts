import { describe, expect, it } from 'vitest';
import { parseAmount, parseBudgetNotification } from '../../../lambdas/budget-guard/parse';
import {
  ACTUAL_90,
  ACTUAL_100,
  ACTUAL_100_PERCENT_THRESHOLD,
  ACTUAL_100_WITH_SUBJECT,
  ACTUAL_CRLF_MESSY,
  BUDGET_NAME,
  FORECASTED_100,
  GARBAGE,
  MISSING_BUDGETED_AMOUNT,
  OTHER_BUDGET_100,
} from './fixtures';

describe('parseBudgetNotification', () => {
  it('reads the runbook notification', () => {
    expect(parseBudgetNotification(ACTUAL_100)).toEqual({
      ok: true,
      notification: {
        budgetName: BUDGET_NAME,
        budgetType: 'Cost',
        budgetedAmount: 2000,
        alertType: 'ACTUAL',
        threshold: { kind: 'absolute', amount: 2000 },
        actualAmount: 2001.37,
        forecastedAmount: undefined,
        accountId: '222222222222',
      },
      warnings: [],
    });
  });

  it('ignores a subject line and the prose around the fields', () => {
    expect(parseBudgetNotification(ACTUAL_100_WITH_SUBJECT)).toEqual(parseBudgetNotification(ACTUAL_100));
  });

  it('reads the 90% and the other budget notifications', () => {
    expect(parseBudgetNotification(ACTUAL_90)).toMatchObject({
      ok: true,
      notification: { actualAmount: 1812.4, threshold: { kind: 'absolute', amount: 1800 } },
    });
    expect(parseBudgetNotification(OTHER_BUDGET_100)).toMatchObject({
      ok: true,
      notification: { budgetName: 'fa-ai-system-prod-batch', budgetedAmount: 900, actualAmount: 951.02 },
    });
  });

  it('reads a FORECASTED notification, which has no ACTUAL Amount', () => {
    expect(parseBudgetNotification(FORECASTED_100)).toMatchObject({
      ok: true,
      notification: { alertType: 'FORECASTED', forecastedAmount: 2310.55, actualAmount: undefined },
    });
  });

  it('resolves a percentage threshold against the budgeted amount', () => {
    expect(parseBudgetNotification(ACTUAL_100_PERCENT_THRESHOLD)).toMatchObject({
      ok: true,
      notification: { threshold: { kind: 'percentage', percent: 100, amount: 2000 }, actualAmount: 2004.1 },
    });
  });

  it('reads CRLF lines, padding, re-ordered fields, any label case and thousands separators', () => {
    expect(parseBudgetNotification(ACTUAL_CRLF_MESSY)).toEqual({
      ok: true,
      notification: {
        budgetName: BUDGET_NAME,
        budgetType: 'Cost',
        budgetedAmount: 1_000_000,
        alertType: 'ACTUAL',
        threshold: { kind: 'absolute', amount: 1_000_000 },
        actualAmount: 1_002_500.75,
        forecastedAmount: undefined,
        accountId: '222222222222',
      },
      warnings: [],
    });
    // Old Mac line endings too.
    expect(parseBudgetNotification(ACTUAL_100.replaceAll('\n', '\r'))).toEqual(
      parseBudgetNotification(ACTUAL_100),
    );
  });

  it('names every missing field of an unrelated text', () => {
    expect(parseBudgetNotification(GARBAGE)).toEqual({
      ok: false,
      missing: ['Budget Name', 'Budgeted Amount', 'Alert Type'],
      invalid: [],
    });
    expect(parseBudgetNotification('')).toMatchObject({ ok: false });
  });

  it('names a missing Budgeted Amount', () => {
    expect(parseBudgetNotification(MISSING_BUDGETED_AMOUNT)).toEqual({
      ok: false,
      missing: ['Budgeted Amount'],
      invalid: [],
    });
  });

  it('requires the ACTUAL Amount of an ACTUAL alert', () => {
    expect(parseBudgetNotification(ACTUAL_100.replace('ACTUAL Amount: $2,001.37\n', ''))).toEqual({
      ok: false,
      missing: ['ACTUAL Amount'],
      invalid: [],
    });
  });

  it('rejects unreadable figures the decision needs', () => {
    expect(
      parseBudgetNotification(
        ACTUAL_100.replace('Budgeted Amount: $2,000.00', 'Budgeted Amount: two thousand'),
      ),
    ).toEqual({ ok: false, missing: [], invalid: ['Budgeted Amount: "two thousand" is not an amount'] });
    expect(parseBudgetNotification(ACTUAL_100.replace('Alert Type: ACTUAL', 'Alert Type: MAYBE'))).toEqual({
      ok: false,
      missing: [],
      invalid: ['Alert Type: "MAYBE" is neither ACTUAL nor FORECASTED'],
    });
  });

  it('rejects two different values of a field the decision needs', () => {
    const twice = ACTUAL_100.replace(
      'Budget Type: Cost',
      'Budget Type: Cost\nBudget Name: fa-ai-system-prod-batch',
    );
    expect(parseBudgetNotification(twice)).toEqual({
      ok: false,
      missing: [],
      invalid: [
        'Budget Name appears twice with different values ("fa-ai-system-prod-monthly", "fa-ai-system-prod-batch")',
      ],
    });
  });

  it('only warns about an unreadable field the decision does not need', () => {
    const result = parseBudgetNotification(
      ACTUAL_100.replace('Alert Threshold: > $2,000.00', 'Alert Threshold: > lots'),
    );
    expect(result).toMatchObject({
      ok: true,
      notification: { threshold: undefined, actualAmount: 2001.37 },
      warnings: ['Alert Threshold: "> lots" is neither an amount nor a percentage'],
    });
  });
});

describe('parseAmount', () => {
  it.each([
    ['$2,000.00', 2000],
    ['2000', 2000],
    ['$ 2,001.37', 2001.37],
    ['$1,234,567.89', 1_234_567.89],
    ['USD 1,234.5', 1234.5],
    ['2,000.00 USD', 2000],
    ['$0.97', 0.97],
  ])('reads %s', (text, value) => {
    expect(parseAmount(text)).toBe(value);
  });

  it.each(['', 'two thousand', '$2,00.00', '$2.000,00', '-$5.00', '$1,2345', '2000 dollars'])(
    'rejects "%s"',
    (text) => {
      expect(parseAmount(text)).toBeUndefined();
    },
  );
});
