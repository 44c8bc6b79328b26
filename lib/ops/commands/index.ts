/**
 * Every command of the ops CLI, in the order of its help. A new command is declared with
 * `opsCommand` (lib/ops/context.ts) next to its implementation and listed here.
 */

import type { OpsCommand } from '../context';
import { AUTOMATION_COMMANDS } from './automation';
import { BACKUP_COMMANDS } from './backup';
import { BATCH_COMMANDS } from './batch';
import { COST_COMMANDS } from './cost';
import { DB_COMMANDS } from './db';
import { DIAGNOSE_COMMANDS } from './diagnose';
import { STATUS_COMMANDS } from './status';
import { TRAFFIC_COMMANDS } from './traffic';

export const OPS_COMMANDS: readonly OpsCommand[] = [
  ...TRAFFIC_COMMANDS,
  ...STATUS_COMMANDS,
  ...DIAGNOSE_COMMANDS,
  ...BATCH_COMMANDS,
  ...COST_COMMANDS,
  ...AUTOMATION_COMMANDS,
  ...DB_COMMANDS,
  ...BACKUP_COMMANDS,
];
