import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { vi } from 'vitest';

/** An AWS service error, shaped as the SDK v3 deserializes it. */
export function awsError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

/** Silent Powertools logger and metrics, plus the EMF documents the metrics write. */
export function observability(serviceName: string) {
  const emf: Array<Record<string, unknown>> = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line.includes('"_aws"')) emf.push(JSON.parse(line));
    }
    return true;
  });
  return {
    emf,
    logger: new Logger({ serviceName, logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test/Automation', serviceName }),
  };
}

/** The value of metric `name` across the captured EMF documents, or undefined if not emitted. */
export function metricValue(emf: ReadonlyArray<Record<string, unknown>>, name: string): unknown {
  for (const doc of emf) if (name in doc) return doc[name];
  return undefined;
}

/**
 * Counts sequential rounds of AWS calls: a call starting after another finished is one level
 * deeper. Each tracked call answers after a few milliseconds so parallel calls overlap.
 */
export class RoundTripTracker {
  private readonly finished: number[] = [];
  readonly calls: Array<{ command: string; level: number }> = [];

  constructor(private readonly latencyMs = 2) {}

  /** Runs `fn` as one tracked call. */
  async track<O>(command: string, fn: () => O | Promise<O>): Promise<O> {
    const level = 1 + Math.max(0, ...this.finished);
    this.calls.push({ command, level });
    await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    try {
      return await fn();
    } finally {
      this.finished.push(level);
    }
  }

  /** `fn` as a tracked mock implementation. */
  wrap<I, O>(command: string, fn: (input: I) => O | Promise<O>): (input: I) => Promise<O> {
    return (input: I) => this.track(command, () => fn(input));
  }

  /** The number of sequential rounds of AWS calls. */
  get depth(): number {
    return Math.max(0, ...this.calls.map((c) => c.level));
  }
}
