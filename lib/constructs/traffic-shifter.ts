import { ArnFormat, type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { AlarmFactsDocument } from '../../core/alarms/facts';
import { type TrafficShiftValues, trafficShiftContract } from '../../core/contracts/traffic';
import { trafficRollbackContract } from '../../core/contracts/traffic-rollback';
import { TRAFFIC_ROLLBACK_CALLS } from '../../lambdas/traffic-rollback/calls';
import { TRAFFIC_SHIFT_CALLS } from '../../lambdas/traffic-shift/calls';
import type { AlertTopics } from './alert-topics';
import { AppFunction, type FunctionLogProps, functionLogs } from './app-function';
import { ssmParameterArn } from './arns';
import type { Automation } from './automation';
import type { Colour } from './blue-green-service';
import { nagArn } from './nag';

/** What a shift uses when its input leaves it out. */
export const SHIFT_DEFAULTS = { steps: [10, 50, 100], bakeSeconds: 300, requestedBy: 'unknown' } as const;

/** Seconds between alarm checks while a step bakes. */
export const BAKE_POLL_SECONDS = 30;

/** Properties of {@link TrafficShifter}. */
export interface TrafficShifterProps extends FunctionLogProps {
  readonly envName: string;
  /** Physical name of the state machine. */
  readonly stateMachineName: string;
  readonly listener: elbv2.IApplicationListener;
  readonly targetGroups: Readonly<Record<Colour, elbv2.IApplicationTargetGroup>>;
  /** The one source of truth of the weights (SSM StringList "<blue>,<green>"). */
  readonly weightsParameterName: string;
  readonly opsTable: dynamodb.ITable;
  /** Alarm names a shift is gated on: the composite P0 and each colour's. */
  readonly alarms: {
    readonly p0: cloudwatch.IAlarm;
    readonly blue: readonly cloudwatch.IAlarm[];
    readonly green: readonly cloudwatch.IAlarm[];
  };
  /** The alarms whose catalogue response is traffic-rollback: entering ALARM, they roll back. */
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
  /** ALARM_FACTS: each alarm's severity and response, from the catalogue (AlarmFactory.facts). */
  readonly alarmFacts: AlarmFactsDocument;
  /** Rollbacks and finished shifts are reported to P1 (a deployment went wrong). */
  readonly alerts: AlertTopics;
  /** Minutes after a shift in which a P0 rolls it back automatically. */
  readonly rollbackWindowMinutes: number;
  /** Minutes between two automatic rollbacks. */
  readonly rollbackCooldownMinutes: number;
  /** Minutes after which an alarm event is too old to act on. */
  readonly rollbackMaxEventAgeMinutes: number;
  /** The pause, repeat guard and verification of the automatic rollback. */
  readonly automation: Automation;
}

/**
 * Shifts traffic from the live colour to the other in steps (default 10, 50, 100 percent):
 * before each step and while it bakes it checks the target colour's alarms and the P0; on an
 * alarm it restores the previous weights, records why and notifies. Weights go through the
 * SSM parameter as well as the listener, so the next deploy keeps them. A lock in the ops
 * table lets one shift run at a time. The P0 alarm, fired within the window after a shift,
 * rolls it back automatically (with a cool-down, so it never flaps).
 */
export class TrafficShifter extends Construct {
  public readonly shiftHandler: AppFunction;
  public readonly rollbackHandler: AppFunction;
  public readonly stateMachine: sfn.StateMachine;
  public readonly rollbackRule: events.Rule;

  constructor(scope: Construct, id: string, props: TrafficShifterProps) {
    super(scope, id);
    const shared: TrafficShiftValues = {
      environment: props.envName,
      listenerArn: props.listener.listenerArn,
      blueTargetGroupArn: props.targetGroups.blue.targetGroupArn,
      greenTargetGroupArn: props.targetGroups.green.targetGroupArn,
      weightsParameter: props.weightsParameterName,
      opsTableName: props.opsTable.tableName,
      alertTopicArn: props.alerts.topics.P1.topicArn,
      alarms: {
        p0: props.alarms.p0.alarmName,
        blue: props.alarms.blue.map((a) => a.alarmName),
        green: props.alarms.green.map((a) => a.alarmName),
      },
      // The shift's rollback on alarm, and the automatic rollback, are recorded and read back.
      automation: props.automation.settings,
    };

    this.shiftHandler = new AppFunction(this, 'ShiftHandler', {
      contract: trafficShiftContract,
      description: 'Traffic shift steps: lock, plan, alarm gates, weights, rollback, finish',
      timeout: Duration.seconds(60),
      retryAttempts: 0,
      ...functionLogs(props),
      config: shared,
    });
    props.automation.grantActing(this.shiftHandler, { recordOnly: true });

    // The state machine invokes this Lambda, so the Lambda cannot name the state machine
    // (a cycle); each task passes the execution ARN instead.
    this.stateMachine = this.buildStateMachine(props);

    this.rollbackHandler = props.automation.actingFunction(this, 'RollbackHandler', {
      contract: trafficRollbackContract,
      description:
        'Automatic rollback: restores the last known-good weights when P0 fires soon after a shift',
      timeout: Duration.seconds(60),
      ...functionLogs(props),
      config: {
        ...shared,
        shiftStateMachineArn: this.stateMachine.stateMachineArn,
        // An automatic rollback means the P0 fired: tell the P0 audience what was done.
        alertTopicArn: props.alerts.topics.P0.topicArn,
        windowMinutes: props.rollbackWindowMinutes,
        cooldownMinutes: props.rollbackCooldownMinutes,
        maxEventAgeMinutes: props.rollbackMaxEventAgeMinutes,
        alarmFacts: props.alarmFacts,
      },
    });

    this.rollbackRule = new events.Rule(this, 'P0Rule', {
      description: 'The P0 alarm entered ALARM: roll back a recent traffic shift',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: props.rollbackAlarms.map((alarm) => alarm.alarmArn),
        detail: { state: { value: ['ALARM'] } },
      },
      targets: [this.rollbackHandler.eventTarget({ retryAttempts: 4, maxEventAge: Duration.minutes(30) })],
    });

    this.grantCalls(props);
    this.acknowledgeFindings(props.stateMachineName);
  }

  private executionArnPattern(stateMachineName: string): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  private grantCalls(props: TrafficShifterProps): void {
    const weights = {
      resources: [ssmParameterArn(this, props.weightsParameterName)],
    };
    const common = {
      listeners: { resources: ['*'] },
      listener: { resources: [props.listener.listenerArn] },
      weightsParameter: weights,
      opsTable: { resources: [props.opsTable.tableArn] },
    };
    this.shiftHandler.grantCalls(TRAFFIC_SHIFT_CALLS, {
      ...common,
      gateAlarms: {
        resources: [props.alarms.p0, ...props.alarms.blue, ...props.alarms.green].map((a) => a.alarmArn),
      },
      alerts: props.alerts.publishGrant(['P1']),
    });
    this.rollbackHandler.grantCalls(TRAFFIC_ROLLBACK_CALLS, {
      ...common,
      shiftExecutions: { resources: [this.executionArnPattern(props.stateMachineName)] },
      // An automatic rollback means the P0 fired: the P0 audience hears what was done.
      alerts: props.alerts.publishGrant(['P0']),
    });
  }

  private buildStateMachine(props: TrafficShifterProps): sfn.StateMachine {
    const invoke = (stateId: string, payload: Record<string, unknown>, resultPath: string | undefined) =>
      new tasks.LambdaInvoke(this, stateId, {
        lambdaFunction: this.shiftHandler.lambda,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        resultPath: resultPath ?? sfn.JsonPath.DISCARD,
        retryOnServiceExceptions: true,
      });
    const executionArn = sfn.JsonPath.executionId;

    // An execution started from the console may leave out all but `to`. The defaults are a
    // JSON object of the definition, not a string literal in an intrinsic function: there
    // `{ } ' \` are reserved and would have to be escaped.
    const defaults = new sfn.Pass(this, 'Defaults', {
      parameters: { defaults: SHIFT_DEFAULTS, input: sfn.JsonPath.entirePayload },
    });
    const applyDefaults = new sfn.Pass(this, 'ApplyDefaults', {
      parameters: {
        merged: sfn.JsonPath.jsonMerge(sfn.JsonPath.objectAt('$.defaults'), sfn.JsonPath.objectAt('$.input')),
      },
      outputPath: '$.merged',
    });
    const begin = invoke(
      'Begin',
      {
        action: 'begin',
        executionArn,
        to: sfn.JsonPath.stringAt('$.to'),
        steps: sfn.JsonPath.listAt('$.steps'),
        bakeSeconds: sfn.JsonPath.numberAt('$.bakeSeconds'),
        requestedBy: sfn.JsonPath.stringAt('$.requestedBy'),
      },
      '$.shift',
    );

    // One step: gate, set weights, bake while watching the alarms.
    const gate = (stateId: string) =>
      invoke(
        `Check${stateId}`,
        { action: 'checkAlarms', alarmNames: sfn.JsonPath.listAt('$.alarmNames') },
        '$.gate',
      );
    // The cause is formatted in a Pass state and the Fail state reads it by a plain path:
    // intrinsic functions in CausePath are newer than some interpreters (the local one of the
    // tests reads CausePath as a path only and would fail the run uncatchably).
    const alarmFiring = new sfn.Pass(this, 'AlarmFiring', {
      parameters: {
        cause: sfn.JsonPath.format(
          'Alarms firing: {}',
          sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.gate.firing')),
        ),
      },
      resultPath: '$.failure',
    }).next(new sfn.Fail(this, 'StepFailed', { error: 'AlarmFiring', causePath: '$.failure.cause' }));
    const preCheck = gate('BeforeStep');
    const setWeights = invoke(
      'SetWeights',
      {
        action: 'setWeights',
        executionArn: sfn.JsonPath.stringAt('$.executionArn'),
        weights: sfn.JsonPath.objectAt('$.weights'),
      },
      undefined,
    );
    const startBake = new sfn.Pass(this, 'StartBake', {
      parameters: { remaining: sfn.JsonPath.numberAt('$.bakeSeconds') },
      resultPath: '$.bake',
    });
    const wait = new sfn.Wait(this, 'Bake', {
      time: sfn.WaitTime.duration(Duration.seconds(BAKE_POLL_SECONDS)),
    });
    const duringBake = gate('DuringBake');
    const countDown = new sfn.Pass(this, 'CountDown', {
      parameters: {
        remaining: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.bake.remaining'), -BAKE_POLL_SECONDS),
      },
      resultPath: '$.bake',
    });
    const stepDone = new sfn.Succeed(this, 'StepDone');
    const bakeLoop = wait
      .next(duringBake)
      .next(
        new sfn.Choice(this, 'HealthyDuringBake?')
          .when(sfn.Condition.booleanEquals('$.gate.healthy', false), alarmFiring)
          .otherwise(
            countDown.next(
              new sfn.Choice(this, 'BakeDone?')
                .when(sfn.Condition.numberLessThanEquals('$.bake.remaining', 0), stepDone)
                .otherwise(wait),
            ),
          ),
      );
    const step = preCheck.next(
      new sfn.Choice(this, 'HealthyBeforeStep?')
        .when(sfn.Condition.booleanEquals('$.gate.healthy', false), alarmFiring)
        .otherwise(setWeights.next(startBake).next(bakeLoop)),
    );

    const steps = new sfn.Map(this, 'Steps', {
      itemsPath: '$.shift.plan',
      maxConcurrency: 1,
      itemSelector: {
        weights: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
        alarmNames: sfn.JsonPath.listAt('$.shift.alarmNames'),
        bakeSeconds: sfn.JsonPath.numberAt('$.bakeSeconds'),
        executionArn,
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    steps.itemProcessor(step);

    const rollback = invoke(
      'Rollback',
      {
        action: 'rollback',
        executionArn,
        from: sfn.JsonPath.objectAt('$.shift.from'),
        reason: sfn.JsonPath.stringAt('$.error.Cause'),
      },
      '$.rollback',
    ).next(new sfn.Fail(this, 'RolledBack', { error: 'ShiftRolledBack', causePath: '$.error.Cause' }));
    steps.addCatch(rollback, { errors: ['States.ALL'], resultPath: '$.error' });

    const finish = invoke(
      'Finish',
      {
        action: 'finish',
        executionArn,
        // The last step of the plan: the target colour at 100.
        weights: sfn.JsonPath.arrayGetItem(
          sfn.JsonPath.listAt('$.shift.plan'),
          Token.asNumber(
            sfn.JsonPath.mathAdd(
              Token.asNumber(sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.shift.plan'))),
              -1,
            ),
          ),
        ),
      },
      undefined,
    );
    const abort = invoke(
      'Abort',
      {
        action: 'abort',
        executionArn,
        error: sfn.JsonPath.stringAt('$.error.Error'),
        cause: sfn.JsonPath.stringAt('$.error.Cause'),
      },
      undefined,
    ).next(new sfn.Fail(this, 'Aborted', { error: 'ShiftAborted', causePath: '$.error.Cause' }));
    finish.addCatch(abort, { errors: ['States.ALL'], resultPath: '$.error' });

    const done = new sfn.Succeed(this, 'Shifted');
    const definition = defaults
      .next(applyDefaults)
      .next(begin)
      .next(
        new sfn.Choice(this, 'AlreadyThere?')
          .when(sfn.Condition.booleanEquals('$.shift.noop', true), new sfn.Succeed(this, 'NothingToShift'))
          .otherwise(steps.next(finish).next(done)),
      );

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    return new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }

  private acknowledgeFindings(stateMachineName: string): void {
    for (const fn of [this.shiftHandler, this.rollbackHandler]) {
      const role = fn.lambda.role;
      if (!role) continue;
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'elasticloadbalancing:DescribeListeners and X-Ray tracing have no resource-level permissions; the write ' +
          '(ModifyListener) is scoped to the one listener.',
      });
    }
    const rollbackRole = this.rollbackHandler.lambda.role;
    if (rollbackRole) {
      Validations.of(rollbackRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'states', `execution:${stateMachineName}`, undefined, ':*')}]`,
        reason:
          'StopExecution on executions of the shift state machine only (a running shift is stopped before its ' +
          'weights are restored; execution names are not known in advance).',
      });
    }
    Validations.of(this.stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.shiftHandler.lambda.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'The state machine invokes its one task Lambda and its versions (ARN:*), as CDK grants invoke.',
    });
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing and CloudWatch Logs delivery of Step Functions have no resource-level permissions.',
    });
  }
}
