import { Duration, type RemovalPolicy, type TimeZone, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { spendReconcileContract } from '../../core/contracts/spend-reconcile';
import { SPEND_RECONCILE_CALLS } from '../../lambdas/spend-reconcile/calls';
import type { SpendReconciliationConfig } from '../config';
import { spendReconciliationCron } from '../config/schedules';
import type { AdminKeySecrets } from './admin-key-secrets';
import { AppFunction } from './app-function';
import { grantDeclaredCalls } from './calls';

/** Properties of {@link SpendReconciliation}. */
export interface SpendReconciliationProps {
  readonly envName: string;
  /** The providers' admin keys (stateful stack). */
  readonly adminKeys: AdminKeySecrets;
  /** `spend.reconciliation` of the environment's config. */
  readonly config: SpendReconciliationConfig;
  /** Time zone of the daily run's hour. */
  readonly timeZone: TimeZone;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

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
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
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
    const role = this.handler.lambda.role as iam.IRole;
    grantDeclaredCalls(role, 'lambda spend-reconcile', SPEND_RECONCILE_CALLS, {
      adminKeys: props.adminKeys.readGrant(),
      reportedSpend: { resources: ['*'] },
    });
    Validations.of(role).acknowledge({
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
  }
}
