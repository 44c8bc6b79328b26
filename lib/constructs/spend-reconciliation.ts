import { Duration, type TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { AlarmId } from '../../core/alarms/catalogue';
import { spendReconcileContract } from '../../core/contracts/spend-reconcile';
import { LLM_PROVIDERS } from '../../core/spend/metric';
import {
  RECONCILIATION_NAMESPACE,
  RECONCILIATION_SERVICE,
  type ReconciliationMetricName,
} from '../../core/spend/reconciliation-metrics';
import { SPEND_RECONCILE_CALLS } from '../../lambdas/spend-reconcile/calls';
import type { SpendReconciliationConfig } from '../config';
import { spendReconciliationCron } from '../config/schedules';
import type { AdminKeySecrets } from './admin-key-secrets';
import type { AlarmFactory } from './alarm-factory';
import { AppFunction, type FunctionLogProps, functionLogs } from './app-function';

/** Properties of {@link SpendReconciliation}. */
export interface SpendReconciliationProps extends FunctionLogProps {
  readonly envName: string;
  /** The providers' admin keys (stateful stack). */
  readonly adminKeys: AdminKeySecrets;
  /** `spend.reconciliation` of the environment's config. */
  readonly config: SpendReconciliationConfig;
  /** Time zone of the daily run's hour. */
  readonly timeZone: TimeZone;
  /** Builds its alarms (under- and over-reported, unknown, heartbeat) from the catalogue. */
  readonly alarms: AlarmFactory;
}

/** The verdicts a daily run publishes per provider, and the alarm that watches each. */
const VERDICT_ALARMS = [
  ['spend-under-reported', 'LlmCostUnderReported'],
  ['spend-over-reported', 'LlmCostOverReported'],
  ['reconcile-unknown', 'LlmCostReconciliationUnknown'],
] as const satisfies ReadonlyArray<readonly [AlarmId, ReconciliationMetricName]>;

/** Runs that may be missed before the heartbeat alarms: one daily run late by a quarter day. */
const HEARTBEAT_PERIOD_HOURS = 6;
const HEARTBEAT_PERIODS = 5;

/**
 * The daily reconciliation with the bills (issue #17): a Lambda on a daily schedule reads what
 * Anthropic's and OpenAI's own cost reports bill for the latest final UTC day and its month to
 * date, compares it with what the application reported (LlmCostUsd), and publishes both and the
 * verdicts (core/spend/reconciliation-metrics.ts), which the alarm catalogue watches.
 *
 * The function runs outside the VPC: Lambda's own network reaches the providers' public HTTPS
 * APIs and CloudWatch and Secrets Manager, so it depends on no NAT and opens nothing inbound.
 */
export class SpendReconciliation extends Construct {
  public readonly handler: AppFunction;
  public readonly schedule: scheduler.Schedule;
  /** By catalogue id: the verdicts' alarms and the heartbeat's. */
  public readonly alarms: Readonly<
    Record<(typeof VERDICT_ALARMS)[number][0] | 'reconcile-heartbeat', cloudwatch.Alarm>
  >;

  constructor(scope: Construct, id: string, props: SpendReconciliationProps) {
    super(scope, id);
    const { config } = props;

    this.handler = new AppFunction(this, 'Handler', {
      contract: spendReconcileContract,
      description:
        "Daily reconciliation of the application's LLM cost with Anthropic's and OpenAI's cost reports",
      // The providers' reports get 90 s with their retries (lambdas/spend-reconcile/handler.ts).
      timeout: Duration.minutes(2),
      // Read-only, so a retry is harmless; a failure is an invalid event or configuration or a crash.
      retryAttempts: 1,
      ...functionLogs(props),
      config: {
        environment: props.envName,
        anthropicAdminKeySecretArn: props.adminKeys.secretArns.anthropic,
        openaiAdminKeySecretArn: props.adminKeys.secretArns.openai,
        maxDiscrepancyPercent: config.maxDiscrepancyPercent,
        minDiscrepancyUsd: config.minDiscrepancyUsd,
        settleHours: config.settleHours,
        anthropicWorkspaceIds: config.anthropicWorkspaceIds,
        openaiProjectIds: config.openaiProjectIds,
      },
    });
    this.handler.grantCalls(SPEND_RECONCILE_CALLS, {
      adminKeys: props.adminKeys.readGrant(),
      reportedSpend: { resources: ['*'] },
    });
    Validations.of(this.handler.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData and X-Ray tracing have no resource-level permissions; the admin key ' +
        'secrets and their key are granted by ARN.',
    });

    this.schedule = new scheduler.Schedule(this, 'Daily', {
      description: "Daily reconciliation of the application's LLM cost with the providers' bills",
      schedule: scheduler.ScheduleExpression.expression(spendReconciliationCron(config.hour), props.timeZone),
      // The scheduled time, not the delivery time, picks the day: a late or repeated delivery
      // reconciles the same day as the on-time one.
      target: this.handler.schedulerTarget(
        { scheduledTime: scheduler.ContextAttribute.scheduledTime },
        { retryAttempts: 2, maxEventAge: Duration.hours(6) },
      ),
    });

    this.alarms = this.buildAlarms(props);
  }

  /**
   * A verdict alarms while the latest run said so: each run publishes 1 or 0 per provider at
   * its own time, so a day-long period holds exactly the latest run, and the larger of the two
   * providers' values is the verdict (one alarm per verdict, two metrics each). A verdict not
   * published (the bill could not be compared) is not breaching: `-unknown` says so.
   */
  private buildAlarms(props: SpendReconciliationProps): SpendReconciliation['alarms'] {
    const env = props.envName;
    const day = Duration.days(1);
    const metric = (
      name: ReconciliationMetricName,
      dims: Record<string, string>,
      statistic: string,
      period: Duration,
    ) =>
      new cloudwatch.Metric({
        namespace: RECONCILIATION_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: RECONCILIATION_SERVICE, Environment: env, ...dims },
        statistic,
        period,
      });
    const limits = {
      percent: props.config.maxDiscrepancyPercent,
      usd: `$${props.config.minDiscrepancyUsd.toFixed(2)}`,
    };
    const built = Object.fromEntries(
      VERDICT_ALARMS.map(([id, name]) => {
        const alarm = props.alarms.metricAlarm(this, id, {
          figures: id === 'reconcile-unknown' ? {} : limits,
          metric: new cloudwatch.MathExpression({
            expression: `MAX([${LLM_PROVIDERS.join(', ')}])`,
            usingMetrics: Object.fromEntries(
              LLM_PROVIDERS.map((provider) => [
                provider,
                metric(name, { Provider: provider }, 'Maximum', day),
              ]),
            ),
            period: day,
            label: `${name} (1 = yes), either provider`,
          }),
          threshold: 1,
          comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        });
        return [id, alarm];
      }),
    );
    const period = Duration.hours(HEARTBEAT_PERIOD_HOURS);
    const heartbeat = props.alarms.metricAlarm(this, 'reconcile-heartbeat', {
      figures: { hours: HEARTBEAT_PERIOD_HOURS * HEARTBEAT_PERIODS },
      metric: metric('LlmCostReconciliationHeartbeat', {}, 'SampleCount', period),
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: HEARTBEAT_PERIODS,
      missing: cloudwatch.TreatMissingData.BREACHING,
    });
    return { ...built, 'reconcile-heartbeat': heartbeat } as SpendReconciliation['alarms'];
  }
}
