import { z } from 'zod';
import { AUTOMATION_RULES } from '../../core/contracts/automation';
import { fraction } from '../../core/contracts/common';
import { DB_MAINTENANCE_RULES } from '../../core/contracts/database';
import { HEALTH_CHECK_RULES } from '../../core/contracts/health-check';
import { REMEDIATION_RULES } from '../../core/contracts/remediation';
import { TRAFFIC_ROLLBACK_RULES } from '../../core/contracts/traffic-rollback';
import { appSettingsSchema } from './app-settings';
import {
  accountId,
  acmCertificateArn,
  count,
  dollars,
  FARGATE_MEMORY_BY_CPU,
  httpsUrl,
  logicalName,
  logRetentionDays,
  percent,
  region,
} from './fields';
import {
  cronSyntaxProblem,
  DB_MAINTENANCE_CRONS,
  DEFAULT_BATCH_CRON,
  dstProblem,
  morningCheckCron,
  spendReconciliationCron,
} from './schedules';
import { budgetsSchema, spendSchema } from './spend';

export { LOG_RETENTION_DAYS } from './fields';

/** The environments this app knows. Anything else is a typo, not a new environment. */
export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** Scaling bounds and image of one colour (blue or green) of the service. */
const colourSchema = z
  .object({
    /** Image tag deployed to this colour; prefer immutable tags (git sha). */
    imageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a valid container image tag'),
    /**
     * Tasks when the service is created. Afterwards the count is live state (auto scaling,
     * remediation's scale-out, traffic shifts): a deploy never resets it, so changing this
     * later has no effect; move a live count within minCount..maxCount instead.
     */
    desiredCount: count,
    minCount: count,
    maxCount: REMEDIATION_RULES.maxTaskCount,
  })
  .superRefine((c, ctx) => {
    if (c.minCount > c.maxCount) {
      ctx.addIssue({
        code: 'custom',
        path: ['minCount'],
        message: `must be <= maxCount (${c.minCount} > ${c.maxCount})`,
      });
    }
    if (c.desiredCount < c.minCount || c.desiredCount > c.maxCount) {
      ctx.addIssue({
        code: 'custom',
        path: ['desiredCount'],
        message: `must be between minCount and maxCount (${c.minCount}..${c.maxCount}), got ${c.desiredCount}`,
      });
    }
  });

/** The PostgreSQL instance (the runbook's fa-ai-system-db). */
const databaseSchema = z
  .object({
    /** RDS instance class without the `db.` prefix, e.g. t4g.small. */
    instanceClass: z
      .string()
      .regex(/^[a-z][a-z0-9]*\.[a-z0-9]+$/, 'must be an instance class such as t4g.small'),
    multiAz: z.boolean(),
    allocatedStorageGiB: z.number().int().min(20, 'must be at least 20 (gp3 minimum)').max(65_536),
    /** Storage autoscaling ceiling. */
    maxAllocatedStorageGiB: z.number().int().max(65_536),
    /** The runbook's automated backups keep 7 days. */
    backupRetentionDays: z
      .number()
      .int()
      .min(1, 'must be at least 1 (0 disables backups)')
      .max(35)
      .default(7),
    /** RDS Proxy in front of the instance (the runbook's "connection pool exhausted" incident). */
    proxy: z.boolean().default(false),
    /**
     * max_connections of the instance, for the "near the limit" alarm.
     * @default - estimated from the instance class memory (RDS: memory / 9531392)
     */
    maxConnections: z.number().int().positive().optional(),
    /** batch_audit rows older than this many days move to batch_audit_archive (monthly maintenance). */
    archiveRetentionDays: DB_MAINTENANCE_RULES.archiveRetentionDays.default(365),
    /** Statements slower than this are logged. */
    slowStatementMs: z.number().int().min(100).default(1000),
    /** HNSW index parameters of bluematrix_reports.embedding; changing them rebuilds the index. */
    hnsw: z
      .object({
        m: z.number().int().min(2).max(100).default(16),
        efConstruction: z.number().int().min(4).max(1000).default(200),
      })
      .prefault({})
      .refine((h) => h.efConstruction >= 2 * h.m, {
        message: 'efConstruction must be at least 2 * m (pgvector rule)',
      }),
  })
  .refine((d) => d.maxAllocatedStorageGiB >= d.allocatedStorageGiB, {
    path: ['maxAllocatedStorageGiB'],
    message: 'must be >= allocatedStorageGiB',
  });

/** The embedding cache (ElastiCache, Valkey engine). */
const cacheSchema = z
  .object({
    /** Node type, e.g. cache.t4g.micro. */
    nodeType: z
      .string()
      .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a node type such as cache.t4g.micro'),
    /** Read replicas besides the primary; Multi-AZ failover needs at least one. */
    replicas: z.number().int().min(0).max(5),
    multiAz: z.boolean(),
    snapshotRetentionDays: z.number().int().min(0).max(35).default(7),
  })
  .refine((c) => !c.multiAz || c.replicas >= 1, {
    path: ['replicas'],
    message: 'must be at least 1 when multiAz is on (failover needs a replica)',
  });

/** The bucket for manual database dumps (the runbook's s3://fa-ai-backups/db/). */
const backupsSchema = z
  .object({
    transitionToInfrequentAccessDays: z.number().int().min(30, 'must be at least 30 (S3 rule)').default(30),
    transitionToGlacierDays: z.number().int().min(1).default(90),
    /** Days after which dumps expire; older versions expire as well. */
    expireDays: z.number().int().min(1).default(365),
    /**
     * Disk of the `ops backup dump` task, which writes the whole plain-SQL dump before uploading
     * it (Fargate ephemeral storage: 21-200 GiB; above 20 GiB it is billed per GB-hour of a run).
     */
    dumpStorageGiB: z
      .number()
      .int()
      .min(21, 'must be at least 21 (Fargate ephemeral storage)')
      .max(200, 'must be at most 200 (Fargate ephemeral storage)')
      .default(50),
  })
  .prefault({})
  .refine(
    (b) =>
      b.transitionToGlacierDays > b.transitionToInfrequentAccessDays &&
      b.expireDays > b.transitionToGlacierDays,
    {
      message: 'lifecycle days must increase: infrequent access < glacier < expire',
    },
  );

/** An EventBridge Scheduler cron expression: cron(minutes hours day-of-month month day-of-week year). */
const schedulerCron = z
  .string()
  .regex(
    /^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/,
    'must be an EventBridge cron expression with six fields, e.g. cron(0 2 ? * SUN *)',
  )
  .refine((expr) => {
    const [, , dom, , dow] = expr.slice(5, -1).split(' ');
    return (dom === '?') !== (dow === '?');
  }, 'must set exactly one of day-of-month and day-of-week to ? (EventBridge rule)')
  .superRefine((expr, ctx) => {
    const problem = cronSyntaxProblem(expr);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `must be a valid cron: ${problem}` });
  });

/** The weekly batch (runbook: Weekly Batch Processing, Sunday 2 AM, moved to 00:00 for DST; under 4 hours). */
const batchSchema = z
  .object({
    /** Image tag of the batch task; defaults to blue's tag. */
    imageTag: z.string().optional(),
    /**
     * Container command; defaults to the runbook's
     * `python src/batch/run_batch_phase2.py --concurrent --max-concurrent <batchMaxConcurrency>`.
     */
    command: z.array(z.string().min(1)).min(1).optional(),
    cpu: z
      .union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)])
      .default(1024),
    memoryMiB: z.number().int().default(2048),
    /**
     * In timeZone; its local time must exist exactly once on daylight-saving days too (see
     * DEFAULT_BATCH_CRON for why the runbook's 02:00 moved). The runbook's cost action
     * "every 3 days" is cron(0 0 *\/3 * ? *).
     */
    scheduleCron: schedulerCron.default(DEFAULT_BATCH_CRON),
    /** A run past this is stopped and alarmed (runbook: duration < 4 hours). */
    timeoutMinutes: z
      .number()
      .int()
      .min(5)
      .max(24 * 60)
      .default(240),
    /** Retries of a failed run (not of a timed-out one). */
    retries: z.number().int().min(0).max(3).default(1),
  })
  .prefault({})
  .superRefine((b, ctx) => {
    const allowed = FARGATE_MEMORY_BY_CPU[b.cpu] ?? [];
    if (!allowed.includes(b.memoryMiB)) {
      ctx.addIssue({
        code: 'custom',
        path: ['memoryMiB'],
        message: `must be a Fargate memory size for cpu ${b.cpu}: ${allowed[0]}..${allowed.at(-1)} MiB (got ${b.memoryMiB})`,
      });
    }
  });

/** Alarm thresholds: the runbook's figures by default. */
const observabilitySchema = z
  .object({
    /** Error rate (5xx / requests) that pages P1 (runbook P1: > 10%). */
    errorRateHigh: fraction.default(0.1),
    /** Error rate that raises P2 (runbook expected result: < 1%). */
    errorRateElevated: fraction.default(0.01),
    /** 5xx share that counts as a storm: the P0 outage signal. */
    errorRateStorm: fraction.default(0.5),
    p95Seconds: HEALTH_CHECK_RULES.p95Seconds.default(3),
    p99Seconds: z.number().positive().default(5),
    batchSuccessRateMinPercent: z.number().min(0).max(100).default(95),
    batchMaxMinutes: HEALTH_CHECK_RULES.batchMaxRunningMinutes.default(240),
    batchMinStocksPerHour: z.number().positive().default(250),
    costPerStockMaxUsd: dollars.default(0.4),
    costPerQueryMaxUsd: dollars.default(0.08),
    dbConnectionsMaxPercent: z.number().int().min(10).max(100).default(80),
    cacheMemoryMaxPercent: z.number().int().min(10).max(100).default(80),
    ecsCpuMaxPercent: z.number().int().min(10).max(100).default(85),
    ecsMemoryMaxPercent: z.number().int().min(10).max(100).default(85),
    /** The morning health check's hour (runbook: Daily 9 AM) in timeZone. */
    morningCheckHour: z.number().int().min(0).max(23).default(9),
    /** Minutes between light health checks. */
    lightCheckMinutes: z.number().int().min(1).max(60).default(5),
    /**
     * While light checks keep finding the same problem, it is sent again after this many
     * minutes (a change of checks or severity goes at once).
     */
    lightCheckRenotifyMinutes: HEALTH_CHECK_RULES.renotifyMinutes.default(60),
    /** Fraction of the latest batch's stocks that must succeed for the health check (runbook: 100%). */
    batchCheckSuccessMin: HEALTH_CHECK_RULES.batchSuccessMin.default(1),
    /**
     * How far back the health check looks for the latest batch run. The batch is weekly, so the
     * runbook's "yesterday's batch" is really "the latest run": 8 days (192 h) always include the
     * last scheduled run, plus a day's slack for a late or re-run one, without reaching back two.
     */
    batchCheckLookbackHours: HEALTH_CHECK_RULES.batchLookbackHours.default(192),
  })
  .prefault({})
  .refine((o) => o.errorRateElevated < o.errorRateHigh && o.errorRateHigh < o.errorRateStorm, {
    message: 'error rates must increase: errorRateElevated < errorRateHigh < errorRateStorm',
  })
  .refine((o) => o.lightCheckRenotifyMinutes >= o.lightCheckMinutes, {
    path: ['lightCheckRenotifyMinutes'],
    message: 'must be at least lightCheckMinutes (a reminder cannot come before the next check)',
  });

const remediationAction = (maxPerHour: number) =>
  z
    .object({
      enabled: z.boolean().default(true),
      /** At most this many per hour; more means something else is wrong: leave it to a human. */
      maxPerHour: REMEDIATION_RULES.maxPerHour.default(maxPerHour),
    })
    .prefault({});

/** Alarm-driven remediation (the runbook's safe Immediate Fixes). */
const remediationSchema = z
  .object({
    /** Log what would be done, do nothing. */
    dryRun: z.boolean().default(false),
    forceNewDeployment: remediationAction(2),
    scaleOut: z
      .object({
        enabled: z.boolean().default(true),
        maxPerHour: REMEDIATION_RULES.maxPerHour.default(3),
        /** Tasks added per scale-out, never past the colour's maxCount. */
        step: REMEDIATION_RULES.step.default(1),
      })
      .prefault({}),
  })
  .prefault({});

/** The automation that checks its own work (core/automation): repeat guard and verification. */
const automationSchema = z
  .object({
    /** More than `max` of the same action for the same alarm within the window escalates instead. */
    repeat: z
      .object({
        max: AUTOMATION_RULES.repeatMax.default(3),
        windowMinutes: AUTOMATION_RULES.repeatWindowMinutes.default(60),
      })
      .prefault({}),
    /** Each action's effect is read back this long after it (the alarm OK, weights, counts). */
    verifyAfterMinutes: AUTOMATION_RULES.verifyAfterMinutes.default(10),
  })
  .prefault({});

/** The schema of one environment. Every value the stacks read comes through here. */
export const environmentConfigSchema = z
  .object({
    envName: z.enum(ENVIRONMENT_NAMES, { error: `must be one of ${ENVIRONMENT_NAMES.join(', ')}` }),
    /** Pinned account; when set, its availability zones must be committed in cdk.json. */
    account: accountId.optional(),
    region,
    /**
     * IANA time zone of every schedule (the runbook's 9 AM, Sunday 2 AM and 3 AM). Each schedule's
     * local time must exist exactly once on the zone's daylight-saving days.
     */
    timeZone: z
      .string()
      .refine((tz) => Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC', {
        message: 'must be an IANA time zone such as America/New_York',
      })
      .default('America/New_York'),
    network: z
      .object({
        maxAzs: z.number().int().min(2, 'must be at least 2 (ALB and Multi-AZ need two zones)').max(3),
        natGateways: z
          .number()
          .int()
          .min(1, 'must be at least 1 (tasks pull images and call model APIs)')
          .max(3),
        /**
         * NAT gateways (managed, zonal HA, $33/month each) or a NAT instance (t4g.nano, about $7
         * a month, a single instance: fine for dev, not for prod).
         */
        natProvider: z.enum(['gateway', 'instance']).default('gateway'),
        /** Days to keep VPC flow logs. */
        flowLogRetentionDays: logRetentionDays.default(30),
      })
      .refine((n) => n.natGateways <= n.maxAzs, {
        path: ['natGateways'],
        message: 'must not exceed maxAzs (one NAT gateway per zone at most)',
      }),
    service: z
      .object({
        /** Fargate CPU units per task. */
        cpu: z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)], {
          error: 'must be a Fargate CPU size: 256, 512, 1024, 2048 or 4096',
        }),
        memoryMiB: count,
        cpuArchitecture: z.enum(['ARM64', 'X86_64']).default('ARM64'),
        containerPort: z.number().int().min(1).max(65_535),
        healthCheckPath: z
          .string()
          .regex(/^\/[A-Za-z0-9/_.-]*$/, 'must be an absolute URL path such as /health'),
        imageRepositoryName: logicalName,
        blue: colourSchema,
        green: colourSchema,
        scaling: z
          .object({
            cpuTargetPercent: percent.min(10).default(70),
            memoryTargetPercent: percent.min(10).default(75),
            requestsPerTargetPerMinute: count.min(1).default(1000),
          })
          .prefault({}),
        logRetentionDays: logRetentionDays.default(90),
        /** ECS Container Insights (task-level metrics, billed as custom metrics). */
        containerInsights: z.boolean().default(true),
      })
      .superRefine((s, ctx) => {
        const allowed = FARGATE_MEMORY_BY_CPU[s.cpu] ?? [];
        if (!allowed.includes(s.memoryMiB)) {
          ctx.addIssue({
            code: 'custom',
            path: ['memoryMiB'],
            message: `must be a Fargate memory size for cpu ${s.cpu}: ${allowed[0]}..${allowed.at(-1)} MiB (got ${s.memoryMiB})`,
          });
        }
      }),
    /**
     * Weights for the first deploy only. After that the live weights belong to the SSM
     * parameter that the shifting automation writes (see TrafficWeights).
     */
    traffic: z
      .object({
        blueWeight: percent,
        greenWeight: percent,
        /** A P0 this soon after a shift rolls it back automatically. */
        rollbackWindowMinutes: TRAFFIC_ROLLBACK_RULES.windowMinutes.default(60),
        /** No second automatic rollback within this (no flapping). */
        rollbackCooldownMinutes: TRAFFIC_ROLLBACK_RULES.cooldownMinutes.default(30),
        /**
         * An alarm event older than this changes nothing and pages that it did not act: a late or
         * redelivered P0 (Lambda retries asynchronous events for hours) must not roll back a
         * shift it predates.
         */
        rollbackMaxEventAgeMinutes: TRAFFIC_ROLLBACK_RULES.maxEventAgeMinutes.default(15),
      })
      .refine((t) => t.blueWeight + t.greenWeight === 100, {
        message: 'blueWeight + greenWeight must sum to 100',
      }),
    tls: z.object({
      certificateArn: acmCertificateArn.optional(),
      /** Serve plain HTTP without a certificate. Only dev may, and only when this says so. */
      allowHttpOnly: z.boolean().default(false),
    }),
    alerts: z.object({
      emails: z
        .array(z.email({ error: 'must be an email address' }))
        .min(1, 'must list at least one address'),
      chatWebhookUrl: httpsUrl.optional(),
      pagerEndpointUrl: httpsUrl.optional(),
    }),
    /** Cost-allocation tags applied to every resource (activate them in Billing). */
    tags: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.:/=+@ -]{0,127}$/), z.string().min(1).max(256)),
    protection: z.object({
      /** CloudFormation termination protection on every stack. */
      terminationProtection: z.boolean(),
      /** Deletion protection, retain-on-delete and snapshots for stateful resources. */
      retainData: z.boolean(),
    }),
    app: appSettingsSchema.prefault({}),
    database: databaseSchema,
    cache: cacheSchema,
    backups: backupsSchema,
    batch: batchSchema,
    budgets: budgetsSchema,
    observability: observabilitySchema,
    remediation: remediationSchema,
    automation: automationSchema,
    spend: spendSchema,
    /** Fixed monthly infrastructure cost the estimate must stay under (runbook: $200 in prod). */
    costBudgetUsd: dollars,
  })
  .superRefine((c, ctx) => {
    // Every schedule runs in timeZone: none may be skipped or doubled by a clock change.
    const schedules: Array<[path: string[], expression: string, what: string]> = [
      [['batch', 'scheduleCron'], c.batch.scheduleCron, 'the weekly batch'],
      [
        ['observability', 'morningCheckHour'],
        morningCheckCron(c.observability.morningCheckHour),
        'the morning health check',
      ],
      [
        ['spend', 'reconciliation', 'hour'],
        spendReconciliationCron(c.spend.reconciliation.hour),
        'the daily spend reconciliation',
      ],
      [['timeZone'], DB_MAINTENANCE_CRONS.weekly, 'the weekly database maintenance'],
      [['timeZone'], DB_MAINTENANCE_CRONS.monthly, 'the monthly database maintenance'],
    ];
    for (const [path, expression, what] of schedules) {
      const problem = dstProblem(expression, c.timeZone);
      if (problem) ctx.addIssue({ code: 'custom', path, message: `${what}: ${problem}` });
    }
    if (!c.tls.certificateArn) {
      if (c.envName !== 'dev') {
        ctx.addIssue({
          code: 'custom',
          path: ['tls', 'certificateArn'],
          message: 'is required outside dev (HTTP-only is allowed in dev alone)',
        });
      } else if (!c.tls.allowHttpOnly) {
        ctx.addIssue({
          code: 'custom',
          path: ['tls', 'certificateArn'],
          message: 'is required unless tls.allowHttpOnly is set to true explicitly',
        });
      }
    } else if (c.tls.allowHttpOnly) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls', 'allowHttpOnly'],
        message: 'must be false when a certificate is configured',
      });
    }
    if (c.envName === 'prod') {
      if (!c.protection.terminationProtection || !c.protection.retainData) {
        ctx.addIssue({
          code: 'custom',
          path: ['protection'],
          message: 'prod must keep terminationProtection and retainData on',
        });
      }
      const minHealthy = c.service.blue.minCount + c.service.green.minCount;
      if (minHealthy < 2) {
        ctx.addIssue({
          code: 'custom',
          path: ['service'],
          message: 'prod needs at least 2 tasks across blue and green (minCount)',
        });
      }
    }
    if (c.envName === 'prod' && c.network.natProvider !== 'gateway') {
      ctx.addIssue({
        code: 'custom',
        path: ['network', 'natProvider'],
        message: 'prod must use NAT gateways (a NAT instance is a single point of failure)',
      });
    }
    if (c.envName === 'prod' && !c.database.multiAz) {
      ctx.addIssue({
        code: 'custom',
        path: ['database', 'multiAz'],
        message: 'prod must run the database Multi-AZ',
      });
    }
    if (c.envName === 'staging' && !c.protection.retainData) {
      ctx.addIssue({
        code: 'custom',
        path: ['protection', 'retainData'],
        message: 'staging must retain data',
      });
    }
    if (c.tls.certificateArn) {
      const [, , , certRegion, certAccount] = c.tls.certificateArn.split(':');
      if (certRegion !== c.region) {
        ctx.addIssue({
          code: 'custom',
          path: ['tls', 'certificateArn'],
          message: `must be in the environment's region ${c.region} (an ALB only uses certificates of its region, got ${certRegion})`,
        });
      }
      if (c.account && certAccount !== c.account) {
        ctx.addIssue({
          code: 'custom',
          path: ['tls', 'certificateArn'],
          message: `must belong to the environment's account ${c.account} (got ${certAccount})`,
        });
      }
    }
  });

/** What config files contain (defaults not yet applied). */
export type EnvironmentConfigInput = z.input<typeof environmentConfigSchema>;
/** A validated environment, with defaults applied. */
export type EnvironmentConfig = z.output<typeof environmentConfigSchema>;
/** Settings of one colour. */
export type ColourConfig = EnvironmentConfig['service']['blue'];
export type DatabaseConfig = EnvironmentConfig['database'];
export type BatchConfig = EnvironmentConfig['batch'];
export type ObservabilityConfig = EnvironmentConfig['observability'];
export type RemediationConfig = EnvironmentConfig['remediation'];
export type AutomationConfig = EnvironmentConfig['automation'];
export type BudgetsConfig = EnvironmentConfig['budgets'];
export type SpendGuardConfig = EnvironmentConfig['spend']['guard'];
export type CacheConfig = EnvironmentConfig['cache'];
export type SpendReconciliationConfig = EnvironmentConfig['spend']['reconciliation'];
/** The runbook's application settings. */
export type AppSettings = EnvironmentConfig['app'];
