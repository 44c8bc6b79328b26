/**
 * The alarm catalogue: every alarm of an environment, once, as data. What each alarm is
 * (severity, meaning, runbook section), where the dashboard shows it, and what the automation
 * does when it fires. `lib/constructs/alarm-factory.ts` builds every alarm from it (name,
 * description, topic, dashboard); the remediation and traffic-rollback Lambdas receive its
 * facts as configuration (`facts.ts`), so nothing ever parses an alarm's name or description.
 *
 * Pure data and types. The Lambdas do not bundle it: they get its facts (facts.ts), whose
 * schema needs only the words of vocabulary.ts.
 *
 * To add an alarm: add its entry here (the id becomes `fa-ai-system-<env>-<id>`), build it
 * with the factory where its metric lives, and pin its logical id in
 * test/fixtures/alarm-logical-ids.json; synth fails while an entry has no alarm.
 */

import type { AlarmResponse, Colour, Severity } from './vocabulary';

export * from './vocabulary';

/**
 * The runbook sections alarms point to: a level-2 heading, a level-3 heading under it, and
 * optionally the words of the step within that section. The texts are the runbook's own
 * (`scripts/check-runbook-sections.ts ../shared/runbook.md` checks them against it).
 */
export const RUNBOOK_SECTIONS = {
  outage: ['Incident Response', 'P0: Complete Service Outage'],
  resourceExhaustion: [
    'Incident Response',
    'P0: Complete Service Outage',
    'Resource exhaustion (CPU/memory)',
  ],
  highErrorRate: ['Incident Response', 'P1: High Error Rate'],
  partialFeature: ['Incident Response', 'P2: Partial Feature Broken'],
  queryLatency: ['Performance Tuning', 'Query Response Time Optimization'],
  batchSlow: ['Common Issues', 'Issue: "Batch Processing Taking Too Long"'],
  weeklyBatch: ['Daily Operations', 'Weekly Batch Processing (Sunday 2 AM)'],
  morningCheck: ['Daily Operations', 'Morning Health Check (Daily 9 AM)'],
  apiCosts: ['Common Issues', 'Issue: "High API Costs"'],
  connectionPool: ['Common Issues', 'Issue: "Database Connection Pool Exhausted"'],
  hallucination: ['Common Issues', 'Issue: "Hallucination Detection Failures"'],
  budgetAlerts: ['Cost Management', 'Budget Alerts'],
} as const satisfies Record<string, readonly [string, string] | readonly [string, string, string]>;
export type RunbookSection = keyof typeof RUNBOOK_SECTIONS;

/** How descriptions cite a section: "Incident Response > P0: Complete Service Outage". */
export function runbookReference(section: RunbookSection): string {
  return RUNBOOK_SECTIONS[section].join(' > ');
}

/**
 * The dashboard's alarm rows, top to bottom, under the runbook's six graphs: each shows the
 * status of the alarms placed on it, in catalogue order.
 */
export const DASHBOARD_ROWS = {
  service: 'Alarms: service (P0, error rate, latency)',
  colours: 'Alarms: blue and green (traffic shift gates, CPU, memory)',
  data: 'Alarms: database and cache',
  batch: 'Alarms: batch and cost',
  logs: "Alarms: the runbook's error patterns in the service logs",
  automation: 'Alarms: automation (Lambdas, health check)',
} as const;
export type DashboardRow = keyof typeof DASHBOARD_ROWS;

/** One alarm of the catalogue. */
export interface AlarmEntry {
  readonly severity: Severity;
  /**
   * What it means when it fires, one line for its description. `{name}` marks a figure the
   * builder of the alarm supplies (a threshold from config), e.g. "error rate above {threshold}".
   */
  readonly meaning: string;
  /** What on-call does first, before the runbook section, when that is not the section's first step. */
  readonly firstStep?: string;
  readonly runbook: RunbookSection;
  readonly dashboard: DashboardRow;
  readonly response: AlarmResponse;
  /** The colour the alarm judges (per-colour alarms only); a scale-out scales this colour. */
  readonly colour?: Colour;
  /**
   * A traffic shift is gated on it: a shift to its colour (to either colour, when it has none)
   * halts and restores the weights while it is in ALARM.
   */
  readonly gatesShift?: boolean;
  /** A composite alarm: in ALARM when any of these is. They page through it, not on their own. */
  readonly anyOf?: readonly string[];
  /** Its topic hears the return to OK as well. */
  readonly notifyOk?: boolean;
}

/** The two entries `<colour>-<suffix>` of an alarm that exists once per colour. */
function perColour<const Suffix extends string>(
  suffix: Suffix,
  entry: (colour: Colour) => Omit<AlarmEntry, 'colour'>,
): Record<`${Colour}-${Suffix}`, AlarmEntry> {
  return {
    [`blue-${suffix}`]: { ...entry('blue'), colour: 'blue' },
    [`green-${suffix}`]: { ...entry('green'), colour: 'green' },
  } as Record<`${Colour}-${Suffix}`, AlarmEntry>;
}

/**
 * The automation Lambdas whose failures alarm, with the severity of a failure: P1 where a
 * failure leaves a page unanswered or the budget unguarded.
 */
export const WATCHED_FUNCTIONS = {
  // A verifier that fails checks nothing: the automation's misses then go unnoticed.
  'automation-verify': 'P1',
  'budget-guard': 'P1',
  'db-maintenance': 'P2',
  'db-migrate': 'P2',
  remediation: 'P1',
  'health-check': 'P2',
  'traffic-shift': 'P1',
  'traffic-rollback': 'P1',
  'spend-guard': 'P1',
} as const satisfies Record<string, Severity>;
export type WatchedFunctionName = keyof typeof WATCHED_FUNCTIONS;

/** `lambda-<name>-errors`: the Lambda failed. */
function lambdaErrors<const Name extends WatchedFunctionName>(
  name: Name,
): Record<`lambda-${Name}-errors`, AlarmEntry> {
  const entry: AlarmEntry = {
    severity: WATCHED_FUNCTIONS[name],
    meaning: `the ${name} Lambda failed`,
    runbook: 'partialFeature',
    dashboard: 'automation',
    response: 'none',
  };
  return { [`lambda-${name}-errors`]: entry } as Record<`lambda-${Name}-errors`, AlarmEntry>;
}

/** `lambda-<name>-dlq`: events of an asynchronous Lambda wait in its dead-letter queue. */
function lambdaDeadLetters<const Name extends WatchedFunctionName>(
  name: Name,
  overrides: Partial<AlarmEntry> = {},
): Record<`lambda-${Name}-dlq`, AlarmEntry> {
  const entry: AlarmEntry = {
    severity: WATCHED_FUNCTIONS[name],
    meaning: `events of the ${name} Lambda are waiting in its dead-letter queue`,
    runbook: 'partialFeature',
    dashboard: 'automation',
    response: 'none',
    ...overrides,
  };
  return { [`lambda-${name}-dlq`]: entry } as Record<`lambda-${Name}-dlq`, AlarmEntry>;
}

/** A colour's ECS resource limit: the live colour is scaled out when it is passed. */
const resourceLimit =
  (resource: string) =>
  (colour: Colour): Omit<AlarmEntry, 'colour'> => ({
    severity: 'P2',
    meaning: `${colour}: ECS ${resource} above {percent}%`,
    runbook: 'resourceExhaustion',
    dashboard: 'colours',
    response: 'scale-out',
  });

const logPattern = (
  severity: Severity,
  runbook: RunbookSection,
  response: AlarmResponse = 'none',
): AlarmEntry => ({
  severity,
  meaning: '{count}+ log lines matching {pattern} in {minutes} minutes',
  runbook,
  dashboard: 'logs',
  response,
});

/** Every alarm of an environment by its id; the alarm is named `fa-ai-system-<env>-<id>`. */
export const ALARM_CATALOGUE = {
  // --- Service: outage, errors, latency ------------------------------------------------------
  p0: {
    severity: 'P0',
    meaning: 'complete service outage: zero healthy targets or a 5xx storm',
    firstStep: 'First action after a recent deployment: npm run ops -- rollback',
    runbook: 'outage',
    dashboard: 'service',
    response: 'traffic-rollback',
    gatesShift: true,
    anyOf: ['zero-healthy-targets', '5xx-storm'],
    notifyOk: true,
  },
  'zero-healthy-targets': {
    severity: 'P0',
    meaning: 'no healthy target behind the ALB (blue + green)',
    runbook: 'outage',
    dashboard: 'service',
    response: 'none',
  },
  '5xx-storm': {
    severity: 'P0',
    meaning: 'more than {share} of requests fail with 5xx',
    runbook: 'outage',
    dashboard: 'service',
    response: 'none',
  },
  'error-rate-high': {
    severity: 'P1',
    meaning: 'error rate above {threshold}',
    runbook: 'highErrorRate',
    dashboard: 'service',
    response: 'none',
  },
  'error-rate-elevated': {
    severity: 'P2',
    meaning: 'error rate above {threshold} (expected result: < 1%)',
    runbook: 'partialFeature',
    dashboard: 'service',
    response: 'none',
  },
  'latency-p95': {
    severity: 'P1',
    meaning: 'P95 response time above {seconds} s (slow responses)',
    runbook: 'queryLatency',
    dashboard: 'service',
    response: 'none',
  },
  'latency-p99': {
    severity: 'P2',
    meaning: 'P99 response time above {seconds} s',
    runbook: 'queryLatency',
    dashboard: 'service',
    response: 'none',
  },

  // --- Per colour: what a traffic shift is judged on, and the limits remediation scales on -----
  ...perColour('error-rate', (colour) => ({
    severity: 'P2',
    meaning: `${colour}: target 5xx above {threshold} of its requests`,
    runbook: 'highErrorRate',
    dashboard: 'colours',
    response: 'none',
    gatesShift: true,
  })),
  ...perColour('latency-p95', (colour) => ({
    severity: 'P2',
    meaning: `${colour}: P95 response time above {seconds} s`,
    runbook: 'queryLatency',
    dashboard: 'colours',
    response: 'none',
    gatesShift: true,
  })),
  ...perColour('unhealthy-targets', (colour) => ({
    severity: 'P2',
    meaning: `${colour}: target health below 100% (expected result: 100% healthy)`,
    runbook: 'outage',
    dashboard: 'colours',
    response: 'none',
    gatesShift: true,
  })),
  ...perColour('cpu-high', resourceLimit('CPU')),
  ...perColour('memory-high', resourceLimit('memory')),

  // --- Data tier -------------------------------------------------------------------------------
  'db-connections-high': {
    severity: 'P1',
    meaning: 'database connections above {percent}% of max_connections ({maxConnections})',
    runbook: 'connectionPool',
    dashboard: 'data',
    response: 'new-deployment',
  },
  'cache-memory-high': {
    severity: 'P2',
    meaning: 'embedding cache memory above {percent}% (evictions follow)',
    runbook: 'batchSlow',
    dashboard: 'data',
    response: 'none',
  },

  // --- Batch and cost ----------------------------------------------------------------------------
  'batch-success-rate-low': {
    severity: 'P2',
    meaning: 'batch success rate below {percent}%',
    runbook: 'weeklyBatch',
    dashboard: 'batch',
    response: 'none',
  },
  'batch-duration-long': {
    severity: 'P2',
    meaning: 'batch ran longer than {minutes} minutes',
    runbook: 'batchSlow',
    dashboard: 'batch',
    response: 'none',
  },
  'batch-throughput-low': {
    severity: 'P2',
    meaning: 'batch throughput below {stocksPerHour} stocks/hour',
    runbook: 'batchSlow',
    dashboard: 'batch',
    response: 'none',
  },
  'batch-failed': {
    severity: 'P2',
    meaning: 'batch run failed after its retries',
    firstStep: 'See the run record and the /ecs batch logs',
    runbook: 'weeklyBatch',
    dashboard: 'batch',
    response: 'none',
  },
  'batch-timed-out': {
    severity: 'P2',
    meaning: 'batch run passed {hours} hours and was stopped',
    runbook: 'batchSlow',
    dashboard: 'batch',
    response: 'none',
  },
  'cost-per-stock-high': {
    severity: 'P2',
    meaning: 'cost per stock above {usd}',
    runbook: 'apiCosts',
    dashboard: 'batch',
    response: 'none',
  },
  'cost-per-query-high': {
    severity: 'P2',
    meaning: 'average cost per query above {usd} over an hour',
    runbook: 'apiCosts',
    dashboard: 'batch',
    response: 'none',
  },
  // Runbook P2 example "Cost tracking not publishing to CloudWatch": the spend guard judges it
  // each run (LlmCostSilent: queries counted or a batch run RUNNING, and no LlmCostUsd call).
  'cost-tracking-not-publishing': {
    severity: 'P2',
    meaning:
      'cost tracking not publishing to CloudWatch: no LlmCostUsd data for {minutes} minutes while queries or a batch run went on, so the spend guard under-counts',
    firstStep: "Check the application's LlmCostUsd publisher (its logs, the Component dimension)",
    runbook: 'partialFeature',
    dashboard: 'batch',
    response: 'none',
  },
  // The daily reconciliation with the providers' bills (lambdas/spend-reconcile).
  'spend-under-reported': {
    severity: 'P2',
    meaning:
      "the application reports less LLM spend than the provider's bill, by more than {percent}% and {usd}: overruns hide from the spend guard",
    firstStep: "Compare `npm run ops -- cost` with the provider's console; the guard's figures are too low",
    runbook: 'budgetAlerts',
    dashboard: 'batch',
    response: 'none',
  },
  'spend-over-reported': {
    severity: 'P3',
    meaning:
      "the application reports more LLM spend than the provider's bill, by more than {percent}% and {usd}",
    runbook: 'budgetAlerts',
    dashboard: 'batch',
    response: 'none',
  },
  'reconcile-unknown': {
    severity: 'P3',
    meaning:
      "spend unknown: the daily reconciliation could not compare a provider's bill with the reported spend (admin key, provider API or day not final)",
    firstStep: 'Read the spend-reconcile log of the last run',
    runbook: 'budgetAlerts',
    dashboard: 'batch',
    response: 'none',
  },
  'reconcile-heartbeat': {
    severity: 'P3',
    meaning:
      'the daily spend reconciliation has not reported for {hours} hours: nobody compares spend with the bills',
    runbook: 'budgetAlerts',
    dashboard: 'batch',
    response: 'none',
  },

  // --- The runbook's error table, counted in the service logs -------------------------------------
  'log-error-logs': logPattern('P2', 'highErrorRate'),
  'log-rate-limited': logPattern('P2', 'highErrorRate'),
  'log-fact-check-failed': logPattern('P3', 'hallucination'),
  'log-vector-search-failed': logPattern('P2', 'highErrorRate'),
  'log-connection-timeout': logPattern('P1', 'highErrorRate'),
  // Runbook: Database Connection Pool Exhausted > Immediate Fix: restart the tasks.
  'log-db-pool-exhausted': logPattern('P1', 'connectionPool', 'new-deployment'),

  // --- Automation ----------------------------------------------------------------------------------
  ...lambdaErrors('budget-guard'),
  ...lambdaDeadLetters('budget-guard', {
    meaning:
      'the budget kill switch failed on a notification (DLQ not empty): the batch may still be enabled over budget',
    firstStep: 'Run `npm run ops -- batch disable` and read the DLQ message',
    runbook: 'budgetAlerts',
  }),
  ...lambdaErrors('db-maintenance'),
  ...lambdaDeadLetters('db-maintenance'),
  ...lambdaErrors('db-migrate'),
  ...lambdaErrors('remediation'),
  ...lambdaDeadLetters('remediation'),
  ...lambdaErrors('health-check'),
  ...lambdaErrors('traffic-shift'),
  ...lambdaErrors('traffic-rollback'),
  ...lambdaDeadLetters('traffic-rollback'),
  ...lambdaErrors('spend-guard'),
  ...lambdaDeadLetters('spend-guard', {
    meaning:
      'scheduled runs of the spend guard failed after their retries (DLQ not empty): spend went unguarded',
    firstStep: 'Run `npm run ops -- cost` and read the DLQ message and the spend-guard log',
    runbook: 'budgetAlerts',
  }),
  'spend-guard-heartbeat': {
    severity: 'P1',
    meaning:
      'the spend guard has not reported for {minutes} minutes: no threshold of the budgets is acted on',
    firstStep: 'Check the spend-guard Lambda and its schedule; `npm run ops -- cost` reads the same figures',
    runbook: 'budgetAlerts',
    dashboard: 'automation',
    response: 'none',
  },
  ...lambdaErrors('automation-verify'),
  ...lambdaDeadLetters('automation-verify', {
    meaning:
      'verifications of automated actions failed (DLQ not empty): nobody checked that those actions worked',
    firstStep: 'Run `npm run ops -- automation status` and check each unverified action by hand',
  }),
  'health-check-heartbeat': {
    severity: 'P2',
    meaning: 'the scheduled health check has not reported for {minutes} minutes: nobody is watching',
    firstStep: 'Run npm run ops -- health by hand and check the health-check Lambda',
    runbook: 'morningCheck',
    dashboard: 'automation',
    response: 'none',
  },
} as const satisfies Record<string, AlarmEntry>;

export type AlarmId = keyof typeof ALARM_CATALOGUE;

/** Every alarm id, in catalogue order (the dashboard's order). */
export const ALARM_IDS = Object.keys(ALARM_CATALOGUE) as AlarmId[];

/** Every entry with its id, in catalogue order: what the facts are serialized from. */
export const ALARM_ENTRIES: ReadonlyArray<readonly [AlarmId, AlarmEntry]> = ALARM_IDS.map((id) => [
  id,
  ALARM_CATALOGUE[id],
]);

/** The entry of `id`. */
export function alarmEntry(id: AlarmId): AlarmEntry {
  return ALARM_CATALOGUE[id];
}

/** The description of an alarm: severity first, the runbook section last. */
export function alarmDescription(entry: AlarmEntry, meaning: string = entry.meaning): string {
  const firstStep = entry.firstStep === undefined ? '' : ` ${entry.firstStep}.`;
  return `${entry.severity} ${meaning}.${firstStep} Runbook: ${runbookReference(entry.runbook)}.`;
}
