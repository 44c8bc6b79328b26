import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import type { AlarmFactsDocument } from '../../core/alarms/facts';
import { remediationContract } from '../../core/contracts/remediation';
import { REMEDIATION_CALLS } from '../../lambdas/remediation/calls';
import type { RemediationConfig } from '../config';
import type { AlertTopics } from './alert-topics';
import { type AppFunction, type FunctionLogProps, functionLogs } from './app-function';
import { ssmParameterArn } from './arns';
import type { Automation } from './automation';
import type { BlueGreenService, Colour } from './blue-green-service';

/** Properties of {@link Remediation}. */
export interface RemediationProps extends FunctionLogProps {
  readonly envName: string;
  /** Prefix of this environment's alarm names, e.g. fa-ai-system-prod-: the rule hears all of them. */
  readonly alarmPrefix: string;
  /** ALARM_FACTS: each alarm's severity and response, from the catalogue (AlarmFactory.facts). */
  readonly alarmFacts: AlarmFactsDocument;
  readonly config: RemediationConfig;
  readonly service: BlueGreenService;
  /** Upper bound of a scale-out per colour (config maxCount). */
  readonly maxCounts: Readonly<Record<Colour, number>>;
  readonly weightsParameterName: string;
  readonly opsTable: dynamodb.ITable;
  readonly alerts: AlertTopics;
  /** The pause, repeat guard and verification of each remediation. */
  readonly automation: Automation;
}

/**
 * The runbook's safe "Immediate Fixes", done on their own when an alarm fires: a
 * connection pool exhausted restarts the live colour's tasks; CPU or memory exhaustion
 * scales the live colour out by a step within its max. Idempotent, rate-limited per action,
 * audited, reported to the alarm's severity topic, switchable per action and in dry-run.
 * (A P0 after a recent shift is the traffic shifter's automatic rollback.)
 */
export class Remediation extends Construct {
  public readonly handler: AppFunction;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RemediationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { service, config } = props;

    this.handler = props.automation.actingFunction(this, 'Handler', {
      contract: remediationContract,
      description:
        'Alarm-driven remediation: force new deployment on pool exhaustion, scale out on CPU/memory',
      timeout: Duration.seconds(60),
      ...functionLogs(props),
      config: {
        environment: props.envName,
        alarmFacts: props.alarmFacts,
        ecsCluster: service.cluster.clusterName,
        services: { blue: service.blue.service.serviceName, green: service.green.service.serviceName },
        maxCounts: props.maxCounts,
        weightsParameter: props.weightsParameterName,
        opsTableName: props.opsTable.tableName,
        topicArns: props.alerts.topicArns,
        remediation: {
          dryRun: config.dryRun,
          actions: {
            'force-new-deployment': config.forceNewDeployment,
            'scale-out': config.scaleOut,
          },
        },
        automation: props.automation.settings,
      },
    });

    this.rule = new events.Rule(this, 'AlarmRule', {
      description: `Alarms of ${props.envName} entering ALARM: run the runbook's safe fixes`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: props.alarmPrefix }], state: { value: ['ALARM'] } },
      },
      targets: [this.handler.eventTarget({ retryAttempts: 4, maxEventAge: Duration.minutes(30) })],
    });

    this.handler.grantCalls(REMEDIATION_CALLS, {
      services: { resources: service.colours.map((c) => c.service.serviceArn) },
      weightsParameter: {
        resources: [ssmParameterArn(stack, props.weightsParameterName)],
      },
      shiftLock: { resources: [props.opsTable.tableArn] },
      claims: { resources: [props.opsTable.tableArn] },
      rateLimit: { resources: [props.opsTable.tableArn] },
      audit: { resources: [props.opsTable.tableArn] },
      alerts: props.alerts.publishGrant(),
    });
    Validations.of(this.handler.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing has no resource-level permissions; ECS, SSM and DynamoDB grants are scoped.',
    });
  }
}
