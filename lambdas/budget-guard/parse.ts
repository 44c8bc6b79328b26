/**
 * Parser of the plain-text notification AWS Budgets publishes to SNS. The text is meant for
 * humans (it is also the e-mail body), so the parser relies only on its "Label: value" lines,
 * in any order, with any line endings and label case, and ignores everything else.
 */

/** ACTUAL (spend so far) or FORECASTED (spend predicted by the end of the period). */
export type AlertType = 'ACTUAL' | 'FORECASTED';

/** The alert threshold as written: an amount or a percentage of the budgeted amount. */
export type AlertThreshold =
  | { readonly kind: 'absolute'; readonly amount: number }
  | { readonly kind: 'percentage'; readonly percent: number; readonly amount: number };

/** The figures of one Budgets notification. */
export interface BudgetNotification {
  readonly budgetName: string;
  /** 'Cost', 'Usage', ... */
  readonly budgetType?: string;
  readonly budgetedAmount: number;
  readonly alertType: AlertType;
  /** Informational: the decision compares the actual amount with the configured percentage. */
  readonly threshold?: AlertThreshold;
  /** Always there for an ACTUAL alert. */
  readonly actualAmount?: number;
  readonly forecastedAmount?: number;
  /** The "AWS Account 123456789012" line. */
  readonly accountId?: string;
}

/** The outcome of {@link parseBudgetNotification}. */
export type ParseResult =
  | {
      readonly ok: true;
      readonly notification: BudgetNotification;
      /** Fields the decision does not need that could not be read (left undefined). */
      readonly warnings: readonly string[];
    }
  | {
      readonly ok: false;
      /** Labels of the required fields not found, e.g. "Budgeted Amount". */
      readonly missing: readonly string[];
      /** Fields found but unreadable, e.g. 'Budgeted Amount: "two thousand" is not an amount'. */
      readonly invalid: readonly string[];
    };

/** The labels read, normalized (lower case, single spaces), and how they are shown in errors. */
const FIELDS = {
  'budget name': 'Budget Name',
  'budget type': 'Budget Type',
  'budgeted amount': 'Budgeted Amount',
  'alert type': 'Alert Type',
  'alert threshold': 'Alert Threshold',
  'actual amount': 'ACTUAL Amount',
  'forecasted amount': 'FORECASTED Amount',
  'forecast amount': 'FORECASTED Amount',
} as const;

type FieldLabel = (typeof FIELDS)[keyof typeof FIELDS];

/** The fields the kill switch decision reads. */
const DECISION_FIELDS: ReadonlySet<FieldLabel> = new Set<FieldLabel>([
  'Budget Name',
  'Budgeted Amount',
  'Alert Type',
  'ACTUAL Amount',
]);

// Thousands separators must group by three: "2,00.00" is a typo, not two thousand.
const AMOUNT = /^(?:[A-Z]{3}\s*)?\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(?:[A-Z]{3})?$/i;
const PERCENT = /^(\d+(?:\.\d+)?)\s*%$/;
const COMPARATOR = /^(?:>=|=>|≥|>|greater than or equal to|greater than|above)\s*/i;
const FIELD_LINE = /^([A-Za-z][A-Za-z ]*?)\s*:\s*(.*)$/;
const ACCOUNT_LINE = /^AWS Account\s+(\d{12})\b/i;

/**
 * An amount such as "$2,000.00", "2000", "USD 1,234.5" as a number, or undefined when the
 * text is not one amount.
 */
export function parseAmount(text: string): number | undefined {
  const match = AMOUNT.exec(text.trim());
  if (!match) return undefined;
  return Number(`${(match[1] ?? '').replaceAll(',', '')}${match[2] ?? ''}`);
}

/** Reads the fields of a Budgets notification body; never throws. */
export function parseBudgetNotification(text: string): ParseResult {
  const fields = new Map<FieldLabel, string>();
  const invalid: string[] = [];
  const warnings: string[] = [];
  let accountId: string | undefined;

  for (const rawLine of text.replace(/\u00a0/g, ' ').split(/\r\n|\r|\n/)) {
    const line = rawLine.trim();
    const account = ACCOUNT_LINE.exec(line);
    if (account) accountId = account[1];
    const match = FIELD_LINE.exec(line);
    if (!match) continue;
    const key = (match[1] ?? '').toLowerCase().replace(/\s+/g, ' ') as keyof typeof FIELDS;
    const label = FIELDS[key];
    if (label === undefined) continue;
    const value = (match[2] ?? '').trim();
    if (value === '') continue;
    const previous = fields.get(label);
    if (previous !== undefined && previous !== value) {
      // Two different budget names or amounts: picking one could act on the wrong figure.
      (DECISION_FIELDS.has(label) ? invalid : warnings).push(
        `${label} appears twice with different values ("${previous}", "${value}")`,
      );
      continue;
    }
    fields.set(label, value);
  }

  const missing: string[] = [];
  const required = (label: FieldLabel): string | undefined => {
    const value = fields.get(label);
    if (value === undefined) missing.push(label);
    return value;
  };
  // An unreadable field the decision needs rejects the notification; any other is a warning,
  // so a format change in an informational line cannot keep the kill switch from engaging.
  const amount = (label: FieldLabel, value: string | undefined, needed: boolean): number | undefined => {
    if (value === undefined) return undefined;
    const parsed = parseAmount(value);
    if (parsed === undefined) (needed ? invalid : warnings).push(`${label}: "${value}" is not an amount`);
    return parsed;
  };

  const budgetName = required('Budget Name');
  const budgetedAmount = amount('Budgeted Amount', required('Budgeted Amount'), true);
  const alertTypeText = required('Alert Type');
  let alertType: AlertType | undefined;
  if (alertTypeText !== undefined) {
    const upper = alertTypeText.toUpperCase();
    if (upper === 'ACTUAL') alertType = 'ACTUAL';
    else if (upper === 'FORECASTED' || upper === 'FORECAST') alertType = 'FORECASTED';
    else invalid.push(`Alert Type: "${alertTypeText}" is neither ACTUAL nor FORECASTED`);
  }
  // The decision needs the actual spend only when the alert is about actual spend.
  const actualNeeded = alertType === 'ACTUAL';
  const actualAmount = amount(
    'ACTUAL Amount',
    actualNeeded ? required('ACTUAL Amount') : fields.get('ACTUAL Amount'),
    actualNeeded,
  );
  const forecastedAmount = amount('FORECASTED Amount', fields.get('FORECASTED Amount'), false);
  const threshold = parseThreshold(fields.get('Alert Threshold'), budgetedAmount, warnings);

  if (
    missing.length > 0 ||
    invalid.length > 0 ||
    budgetName === undefined ||
    budgetedAmount === undefined ||
    alertType === undefined
  ) {
    return { ok: false, missing, invalid };
  }
  return {
    ok: true,
    notification: {
      budgetName,
      budgetType: fields.get('Budget Type'),
      budgetedAmount,
      alertType,
      threshold,
      actualAmount,
      forecastedAmount,
      accountId,
    },
    warnings,
  };
}

function parseThreshold(
  text: string | undefined,
  budgetedAmount: number | undefined,
  warnings: string[],
): AlertThreshold | undefined {
  if (text === undefined) return undefined;
  const value = text.replace(COMPARATOR, '').trim();
  const percent = PERCENT.exec(value);
  if (percent) {
    const p = Number(percent[1]);
    // Without a budgeted amount the notification is rejected anyway (it is required).
    return { kind: 'percentage', percent: p, amount: ((budgetedAmount ?? 0) * p) / 100 };
  }
  const amount = parseAmount(value);
  if (amount === undefined) {
    warnings.push(`Alert Threshold: "${text}" is neither an amount nor a percentage`);
    return undefined;
  }
  return { kind: 'absolute', amount };
}
