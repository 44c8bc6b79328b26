import { Logger } from '@aws-lambda-powertools/logger';

let logger: Logger | undefined;

/** A Powertools logger that writes nothing: the shared code logs JSON for CloudWatch, not for a terminal. */
export function silentLogger(): Logger {
  if (logger === undefined) logger = new Logger({ serviceName: 'ops-cli', logLevel: 'SILENT' });
  return logger;
}
