/** `status` and `health`: the services, their targets, and the health check report. */

import { DescribeServicesCommand, type Service } from '@aws-sdk/client-ecs';
import {
  DescribeTargetHealthCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { formatReport } from '../../../core/health/report';
import { type CheckTarget, runHealthCheck } from '../../../core/health/run';
import { COLOURS, describeError, readLiveWeights } from '../../../core/traffic';
import { choice } from '../../cli/args';
import { type CommandContext, type OpsCommand, opsCommand } from '../context';
import { EXIT } from '../errors';
import { type OpsManifest, trafficConfigOf } from '../manifest';
import { type CommandResult, readResult, table, when } from '../output';

/** The ECS services, the health of their targets and the live weights. */
export async function statusCommand(ctx: CommandContext): Promise<CommandResult> {
  const { manifest, clients } = ctx;
  const config = trafficConfigOf(manifest);
  const [services, blueTargets, greenTargets, live] = await Promise.allSettled([
    clients.ecs.send(
      new DescribeServicesCommand({
        cluster: manifest.clusterName,
        services: [manifest.services.blue, manifest.services.green],
      }),
    ),
    clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: manifest.targetGroups.blue.arn })),
    clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: manifest.targetGroups.green.arn })),
    readLiveWeights(clients.elbv2, config.listenerArn, config.targetGroups),
  ]);
  const errors: string[] = [];
  const failed = (what: string, r: PromiseSettledResult<unknown>) => {
    if (r.status === 'rejected') errors.push(`${what}: ${describeError(r.reason)}`);
  };
  failed('DescribeServices', services);
  failed('DescribeTargetHealth blue', blueTargets);
  failed('DescribeTargetHealth green', greenTargets);
  failed('live weights', live);

  const targets = {
    blue: blueTargets.status === 'fulfilled' ? (blueTargets.value.TargetHealthDescriptions ?? []) : undefined,
    green:
      greenTargets.status === 'fulfilled' ? (greenTargets.value.TargetHealthDescriptions ?? []) : undefined,
  };
  const colours = COLOURS.map((colour) => {
    const serviceName = manifest.services[colour];
    const service =
      services.status === 'fulfilled'
        ? services.value.services?.find((s) => s.serviceName === serviceName)
        : undefined;
    const missing =
      services.status === 'fulfilled' &&
      (services.value.failures ?? []).some(
        (f) => f.arn?.endsWith(`/${serviceName}`) || f.arn === serviceName,
      );
    return {
      colour,
      serviceName,
      service: service ? summarizeService(service) : null,
      missing,
      targets: targets[colour] ? summarizeTargets(targets[colour]) : null,
      weight: live.status === 'fulfilled' ? live.value[colour] : null,
    };
  });

  const rows: string[][] = [
    ['', 'service', 'status', 'tasks run/want/pend', 'deployment', 'targets', 'weight'],
  ];
  for (const c of colours) {
    const s = c.service;
    rows.push([
      c.colour,
      c.serviceName,
      s === null ? (c.missing ? 'MISSING' : 'UNKNOWN') : s.status,
      s === null ? '-' : `${s.running}/${s.desired}/${s.pending}`,
      s === null
        ? '-'
        : `${s.rolloutState ?? '-'}${s.taskDefinition ? ` ${s.taskDefinition}` : ''}${s.deployments > 1 ? ` (+${s.deployments - 1} older)` : ''}`,
      c.targets === null ? 'UNKNOWN' : `${c.targets.healthy}/${c.targets.total} healthy`,
      c.weight === null ? '?' : String(c.weight),
    ]);
  }
  const lines = [
    `Service status: ${manifest.environment} (${ctx.region}), cluster ${manifest.clusterName}`,
    '',
    ...table(rows, '  '),
  ];
  for (const c of colours) {
    const s = c.service;
    if (s?.rolloutStateReason && s.rolloutState !== 'COMPLETED') {
      lines.push(`  ${c.colour} deployment: ${s.rolloutStateReason} (updated ${when(s.updatedAt)})`);
    }
    for (const problem of c.targets?.problems ?? []) lines.push(`  ${c.colour} target ${problem}`);
  }
  return readResult(lines, errors, {
    environment: manifest.environment,
    region: ctx.region,
    colours,
    errors,
  });
}

export function summarizeService(service: Service) {
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY') ?? service.deployments?.[0];
  return {
    status: service.status ?? 'UNKNOWN',
    running: service.runningCount ?? 0,
    desired: service.desiredCount ?? 0,
    pending: service.pendingCount ?? 0,
    deployments: service.deployments?.length ?? 0,
    rolloutState: primary?.rolloutState,
    rolloutStateReason: primary?.rolloutStateReason,
    taskDefinition: primary?.taskDefinition?.split('/').pop(),
    updatedAt: primary?.updatedAt,
  };
}

export function summarizeTargets(descriptions: readonly TargetHealthDescription[]) {
  const healthy = descriptions.filter((d) => d.TargetHealth?.State === 'healthy').length;
  const problems = descriptions
    .filter((d) => d.TargetHealth?.State !== 'healthy')
    .map(
      (d) =>
        `${d.Target?.Id ?? '?'}:${d.Target?.Port ?? '?'} ${d.TargetHealth?.State ?? 'unknown'}` +
        `${d.TargetHealth?.Reason ? ` (${d.TargetHealth.Reason}${d.TargetHealth.Description ? `: ${d.TargetHealth.Description}` : ''})` : ''}`,
    );
  return { healthy, total: descriptions.length, problems };
}

// ---------------------------------------------------------------------------------------------
// health

/** What the health check Lambda checks, from the manifest: the deployed thresholds included. */
export function healthConfigOf(manifest: OpsManifest): CheckTarget {
  return {
    environment: manifest.environment,
    ecsCluster: manifest.clusterName,
    services: COLOURS.map((colour) => ({ colour, serviceName: manifest.services[colour] })),
    targetGroups: COLOURS.map((colour) => ({
      colour,
      targetGroupArn: manifest.targetGroups[colour].arn,
      targetGroupFullName: manifest.targetGroups[colour].fullName,
    })),
    loadBalancerFullName: manifest.loadBalancerFullName,
    opsTableName: manifest.opsTable,
    topicArns: manifest.topics,
    thresholds: manifest.healthThresholds,
  };
}

/** The health check's report, as the scheduled Lambda sends it; exit 1 unless HEALTHY. */
export async function healthCommand(
  ctx: CommandContext,
  command: { readonly kind: 'morning' | 'light' },
): Promise<CommandResult> {
  const report = await runHealthCheck(ctx.clients, healthConfigOf(ctx.manifest), {
    kind: command.kind,
    now: ctx.now(),
  });
  return {
    exitCode: report.overall === 'HEALTHY' ? EXIT.ok : EXIT.failed,
    lines: [formatReport(report)],
    data: report,
  };
}

export const STATUS_COMMANDS: readonly OpsCommand[] = [
  opsCommand({
    name: 'status',
    summary: 'ECS services, target health and live weights',
    options: {},
    run: statusCommand,
  }),
  opsCommand({
    name: 'health',
    summary: 'the health check report (exit 1 unless HEALTHY)',
    options: { kind: choice(['morning', 'light'], 'which check').default('morning') },
    run: healthCommand,
  }),
];
