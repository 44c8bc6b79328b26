/**
 * The ops table's key scheme, in one place: key attributes, partitions and fixed sort keys.
 * Lambdas, the ops CLI and the constructs (IAM conditions, state machine definitions) all read
 * these; nothing else writes a partition name. No imports: the synth loads this module too.
 */

/** The table's key schema and TTL attribute: the construct creates the table from these. */
export const OPS_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', timeToLive: 'expiresAt' } as const;

/** The kill switch state item: pk KILL_SWITCH, sk STATE. */
export const KILL_SWITCH_PK = 'KILL_SWITCH';
export const KILL_SWITCH_SK = 'STATE';
/** The audit trail: sk `<ISO timestamp>#<id>`. */
export const AUDIT_PK = 'AUDIT';
/** Batch run records written by the batch state machine: sk `<startedAt>#<executionName>`. */
export const BATCH_RUN_PK = 'BATCH_RUN';
/** Traffic shifting: the shift lock, the last shift and the last automatic rollback. */
export const TRAFFIC_PK = 'TRAFFIC';
export const SHIFT_LOCK_SK = 'SHIFT_LOCK';
export const LAST_SHIFT_SK = 'LAST_SHIFT';
export const ROLLBACK_SK = 'ROLLBACK';
/**
 * The automatic rollback's record of each alarm transition it acted on (pk TRAFFIC): sk
 * `ALARM_EVENT#<alarmName>#<state timestamp>`, so a duplicate delivery is told from a new one.
 */
export const ALARM_EVENT_SK_PREFIX = 'ALARM_EVENT#';
/** The health check's items; sk LIGHT_ALERT holds what the light check last sent. */
export const HEALTH_PK = 'HEALTH';
export const LIGHT_ALERT_SK = 'LIGHT_ALERT';
/** Remediation's per-event idempotency markers and hourly rate counters. */
export const REMEDIATION_EVENT_PK = 'REMEDIATION_EVENT';
export const REMEDIATION_RATE_PK = 'REMEDIATION_RATE';
/**
 * Automation's own items (core/automation/): pk AUTOMATION, sk PAUSE holds the pause every
 * automated action reads before it acts (written only by the ops CLI); pk AUTOMATION_ACTION,
 * sk `<ISO time>#<id>`, one record per automated action taken, which the repeat guard counts
 * and the verifier completes with its outcome.
 */
export const AUTOMATION_PK = 'AUTOMATION';
export const AUTOMATION_PAUSE_SK = 'PAUSE';
export const AUTOMATION_ACTION_PK = 'AUTOMATION_ACTION';
/**
 * The spend guard's record of each threshold it acted on, once per threshold per budget per
 * month: sk `<YYYY-MM>#<budget>#<percent>` (or `#forecast` for the month-end projection).
 */
export const SPEND_ALERT_PK = 'SPEND_ALERT';
/** The spend guard's own state; sk SPEND_UNKNOWN holds the "spend unknown" page it last sent. */
export const SPEND_GUARD_PK = 'SPEND_GUARD';
export const SPEND_UNKNOWN_SK = 'SPEND_UNKNOWN';
