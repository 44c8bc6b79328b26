/** Reading an action's effect back: one function per kind of check (core/automation/checks.ts). */

import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Check } from '../../core/automation/checks';
import { describeError } from '../../core/errors';
import { formatWeights, readLiveWeights, readStoredWeights, weightsEqual } from '../../core/traffic';

/** The clients the checks read with. */
export interface CheckClients {
  readonly cloudwatch: CloudWatchClient;
  readonly ecs: ECSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
  readonly scheduler: SchedulerClient;
  readonly sfn: SFNClient;
}

/** What one check found: whether the effect is there, and what was seen, for humans. */
export interface Observation {
  readonly ok: boolean;
  readonly saw: string;
}

/** Evaluates one check; a read that fails is an effect not confirmed (never throws). */
export async function observe(clients: CheckClients, check: Check): Promise<Observation> {
  try {
    switch (check.kind) {
      case 'alarm-ok':
        return await alarmOk(clients, check);
      case 'service':
        return await service(clients, check);
      case 'weights':
        return await weights(clients, check);
      case 'kill-switch':
        return await killSwitch(clients, check);
    }
  } catch (error) {
    return { ok: false, saw: `could not read ${describeCheck(check)}: ${describeError(error)}` };
  }
}

function describeCheck(check: Check): string {
  switch (check.kind) {
    case 'alarm-ok':
      return `alarm ${check.alarmName}`;
    case 'service':
      return `service ${check.service}`;
    case 'weights':
      return `the weights (${check.weightsParameter} and the listener)`;
    case 'kill-switch':
      return `the batch schedule ${check.scheduleGroup}/${check.scheduleName} and its executions`;
  }
}

async function alarmOk(
  clients: CheckClients,
  check: Extract<Check, { kind: 'alarm-ok' }>,
): Promise<Observation> {
  const out = await clients.cloudwatch.send(
    new DescribeAlarmsCommand({
      AlarmNames: [check.alarmName],
      AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
    }),
  );
  const alarm = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].find(
    (a) => a.AlarmName === check.alarmName,
  );
  if (alarm === undefined) return { ok: false, saw: `alarm ${check.alarmName} not found` };
  if (alarm.StateValue === 'OK') return { ok: true, saw: `alarm ${check.alarmName} is OK` };
  const since = alarm.StateUpdatedTimestamp ? ` since ${alarm.StateUpdatedTimestamp.toISOString()}` : '';
  return {
    ok: false,
    saw: `alarm ${check.alarmName} is still ${alarm.StateValue ?? 'in an unknown state'}${since}: ${alarm.StateReason ?? 'no reason given'}`,
  };
}

async function service(
  clients: CheckClients,
  check: Extract<Check, { kind: 'service' }>,
): Promise<Observation> {
  const out = await clients.ecs.send(
    new DescribeServicesCommand({ cluster: check.cluster, services: [check.service] }),
  );
  const found = out.services?.find(
    (s) => s.serviceName === check.service || s.serviceArn?.endsWith(`/${check.service}`),
  );
  if (found === undefined) return { ok: false, saw: `service ${check.service} not found` };
  const desired = found.desiredCount ?? 0;
  const running = found.runningCount ?? 0;
  const primary = found.deployments?.find((d) => d.status === 'PRIMARY');
  const problems: string[] = [];
  if (check.desiredAtLeast !== undefined && desired < check.desiredAtLeast) {
    problems.push(`desired ${desired}, expected at least ${check.desiredAtLeast}`);
  }
  if (running < Math.max(desired, check.desiredAtLeast ?? 0)) {
    problems.push(`running ${running} of ${desired} desired`);
  }
  if (check.notDeployment !== undefined) {
    if (primary === undefined || primary.id === check.notDeployment) {
      problems.push(`no new deployment: the PRIMARY one is still ${primary?.id ?? 'unknown'}`);
    } else if (primary.rolloutState !== 'COMPLETED') {
      problems.push(
        `the new deployment ${primary.id} is ${primary.rolloutState ?? 'in an unknown state'}` +
          `${primary.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ''}`,
      );
    }
  }
  const figures = `desired ${desired}, running ${running}${primary?.id ? `, PRIMARY deployment ${primary.id} ${primary.rolloutState ?? ''}`.trimEnd() : ''}`;
  return problems.length === 0
    ? { ok: true, saw: `service ${check.service}: ${figures}` }
    : { ok: false, saw: `service ${check.service}: ${problems.join('; ')} (${figures})` };
}

async function weights(
  clients: CheckClients,
  check: Extract<Check, { kind: 'weights' }>,
): Promise<Observation> {
  const [live, stored] = await Promise.all([
    readLiveWeights(clients.elbv2, check.listenerArn, check.targetGroups),
    readStoredWeights(clients.ssm, check.weightsParameter),
  ]);
  const expected = formatWeights(check.expected);
  const ok = weightsEqual(live, check.expected) && weightsEqual(stored, check.expected);
  return {
    ok,
    saw: ok
      ? `weights ${expected} on the listener and in ${check.weightsParameter}`
      : `weights expected ${expected}: the listener holds ${formatWeights(live)}, ${check.weightsParameter} ${formatWeights(stored)}`,
  };
}

async function killSwitch(
  clients: CheckClients,
  check: Extract<Check, { kind: 'kill-switch' }>,
): Promise<Observation> {
  const [schedule, executions] = await Promise.all([
    clients.scheduler.send(
      new GetScheduleCommand({ Name: check.scheduleName, GroupName: check.scheduleGroup }),
    ),
    clients.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: check.stateMachineArn,
        statusFilter: 'RUNNING',
        maxResults: 10,
      }),
    ),
  ]);
  const running = (executions.executions ?? []).map((e) => e.name ?? e.executionArn ?? 'unnamed');
  const problems: string[] = [];
  if (schedule.State !== 'DISABLED')
    problems.push(`the schedule is ${schedule.State ?? 'in an unknown state'}`);
  if (running.length > 0)
    problems.push(`${running.length} execution(s) still RUNNING: ${running.join(', ')}`);
  const ref = `${check.scheduleGroup}/${check.scheduleName}`;
  return problems.length === 0
    ? { ok: true, saw: `schedule ${ref} DISABLED, no RUNNING execution` }
    : { ok: false, saw: `kill switch: ${problems.join('; ')} (schedule ${ref})` };
}
