/** Exit codes of the ops CLI. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An error of the CLI whose message is meant for the operator as is. */
export class OpsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line: the message and the usage are printed, exit 2. */
export class UsageError extends OpsError {
  constructor(
    message: string,
    /** The usage to print: the command's. @default the CLI's */
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** The operation was refused (a concurrent shift, a budget still exceeded ...), exit 2. */
export class RefusedError extends OpsError {}

/** What to tell the operator about an error, and the exit code. */
export interface Classified {
  readonly message: string;
  readonly exitCode: number;
  /** Print the usage after the message. */
  readonly usage?: boolean;
}

// Errors the batch controls and the traffic functions raise when they refuse to act.
const REFUSALS: ReadonlySet<string> = new Set([
  'BudgetStillExceededError',
  'BudgetSpendUnknownError',
  'ShiftInProgressError',
  'InvalidInputError',
  'InvalidWeightsError',
]);

/** The operator's message and exit code for anything thrown by a command. */
export function classifyError(error: unknown): Classified {
  if (error instanceof UsageError) return { message: error.message, exitCode: EXIT.usage, usage: true };
  if (error instanceof RefusedError) return { message: error.message, exitCode: EXIT.usage };
  if (error instanceof OpsError) return { message: error.message, exitCode: EXIT.failed };
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
  };
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return {
      message: 'No AWS credentials found: run aws sso login or set AWS_PROFILE',
      exitCode: EXIT.failed,
    };
  }
  if (
    ['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired'].includes(name) ||
    /(token|session).*(has )?expired/i.test(message)
  ) {
    return {
      message: `AWS credentials expired (${message}): run aws sso login, or refresh AWS_PROFILE's credentials`,
      exitCode: EXIT.failed,
    };
  }
  if (['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation'].includes(name)) {
    return { message: `Access denied: ${message}`, exitCode: EXIT.failed };
  }
  if (REFUSALS.has(name)) return { message: `Refused: ${message}`, exitCode: EXIT.usage };
  return { message: `${name || 'Error'}: ${message}`, exitCode: EXIT.failed };
}
