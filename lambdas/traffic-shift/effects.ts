/** What every shift step shares: its time, logger and retries, and the best-effort audit and notice. */

import { Logger } from '@aws-lambda-powertools/logger';
import { tryPublishNotice } from '../../core/notice';
import { recordAudit } from '../../core/ops-table/items';
import { describeError, type TrafficFunctionConfig } from '../../core/traffic';
import type { ShiftClients, ShiftOptions } from './types';

let defaultLogger: Logger | undefined;

/** The step's clock, logger and retries. */
export function resolve(options: ShiftOptions) {
  if (options.logger === undefined && defaultLogger === undefined) {
    defaultLogger = new Logger({ serviceName: 'traffic-shift' });
  }
  const logger = options.logger ?? (defaultLogger as Logger);
  return { logger, now: options.now ?? (() => new Date()) };
}

export async function audit(
  clients: Pick<ShiftClients, 'ddb'>,
  tableName: string,
  logger: Logger,
  at: Date,
  entry: Parameters<typeof recordAudit>[2],
): Promise<void> {
  try {
    await recordAudit(clients.ddb, tableName, entry, { now: at });
  } catch (error) {
    logger.error('Cannot record the audit entry', { action: entry.action, error: describeError(error) });
  }
}

export async function notify(
  clients: Pick<ShiftClients, 'sns'>,
  traffic: TrafficFunctionConfig['traffic'],
  logger: Logger,
  message: { readonly subject: string; readonly lines: readonly string[] },
): Promise<void> {
  const notice = { subject: message.subject, message: message.lines.join('\n') };
  await tryPublishNotice(clients.sns, traffic.alertTopicArn, notice, (error) =>
    logger.error('Cannot publish the notification', {
      subject: message.subject,
      error: describeError(error),
    }),
  );
}
