import { GET_METRIC_DATA_METRICS_METADATA, INITIAL_DESIRED_COUNT_METADATA } from '../../naming';
import type { Pricer, PricingContext } from '../context';
import { monthlyOccurrences } from '../schedules';
import { asNumber, asString, type CfnResource, flattenString, isRecord, referencedId } from '../template';

/**
 * Seconds each scheduled Lambda invocation is assumed to run (capped by its timeout): the
 * functions here call a few AWS APIs or the database and return. Longer runs are usage.
 */
export const LAMBDA_BASELINE_SECONDS = 5;

const FARGATE_FREE_EPHEMERAL_GIB = 20;

type Architecture = 'arm64' | 'x86_64';

interface FargateSize {
  readonly vcpu: number;
  readonly gb: number;
  readonly architecture: Architecture;
  readonly extraEphemeralGb: number;
}

/** The Fargate size of a task definition, or why it has none. */
function fargateSize(taskDefinition: CfnResource): FargateSize | string {
  const p = taskDefinition.Properties ?? {};
  const cpu = asNumber(p.Cpu);
  const memory = asNumber(p.Memory);
  if (cpu === undefined || memory === undefined) {
    return 'task definition has no literal task-level Cpu and Memory';
  }
  const platform = isRecord(p.RuntimePlatform) ? p.RuntimePlatform : {};
  const os = asString(platform.OperatingSystemFamily) ?? 'LINUX';
  if (os !== 'LINUX') return `operating system ${os} adds a license fee the price table does not hold`;
  const ephemeral = isRecord(p.EphemeralStorage) ? (asNumber(p.EphemeralStorage.SizeInGiB) ?? 0) : 0;
  return {
    vcpu: cpu / 1024,
    gb: memory / 1024,
    architecture: platform.CpuArchitecture === 'ARM64' ? 'arm64' : 'x86_64',
    extraEphemeralGb: Math.max(0, ephemeral - FARGATE_FREE_EPHEMERAL_GIB),
  };
}

function sizeLabel(size: FargateSize): string {
  return `${size.vcpu} vCPU / ${size.gb} GB ${size.architecture === 'arm64' ? 'ARM64' : 'X86_64'}`;
}

function taskHourPrice(ctx: PricingContext, size: FargateSize): number {
  const rate = ctx.prices.fargate[size.architecture];
  return (
    size.vcpu * rate.vcpuHour +
    size.gb * rate.gbHour +
    size.extraEphemeralGb * ctx.prices.fargate.ephemeralStorageGbHour
  );
}

function usesFargate(p: Record<string, unknown>): boolean | undefined {
  if (Array.isArray(p.CapacityProviderStrategy) && p.CapacityProviderStrategy.length > 0) {
    return p.CapacityProviderStrategy.some(
      (s) =>
        isRecord(s) && typeof s.CapacityProvider === 'string' && s.CapacityProvider.startsWith('FARGATE'),
    );
  }
  if (p.LaunchType === undefined) return undefined;
  return p.LaunchType === 'FARGATE';
}

/**
 * The tasks an ECS service runs, as far as the template says: its DesiredCount, else the count
 * set at its creation (metadata of InitialDesiredCount: the live count is state, moved by
 * auto scaling and the automation within the scaling limits), else the one task ECS starts.
 */
export function serviceTaskCount(resource: CfnResource): { tasks: number | undefined; assumption?: string } {
  const declared = resource.Properties?.DesiredCount;
  if (declared !== undefined) return { tasks: asNumber(declared) };
  const initial = asNumber(resource.Metadata?.[INITIAL_DESIRED_COUNT_METADATA]);
  if (initial !== undefined) {
    return {
      tasks: initial,
      assumption: 'the count set at creation; the live count is moved by auto scaling',
    };
  }
  return { tasks: 1, assumption: 'no DesiredCount: ECS starts 1 task' };
}

/** Fargate tasks of an ECS service: desired count x task size, around the clock. */
export const priceEcsService: Pricer = (ctx, id, resource) => {
  const type = resource.Type;
  const p = resource.Properties ?? {};
  const fargate = usesFargate(p);
  if (fargate === false) {
    ctx.addFree(id, type, 'EC2/external launch type: the capacity is billed as its instances');
    return;
  }
  if (fargate === undefined) {
    ctx.addUnpriced(id, type, "no LaunchType or CapacityProviderStrategy: runs on the cluster's default");
    return;
  }
  const taskDefinitionId = referencedId(p.TaskDefinition);
  const taskDefinition = taskDefinitionId === undefined ? undefined : ctx.resources.get(taskDefinitionId);
  if (!taskDefinition) {
    ctx.addUnpriced(id, type, 'task definition is not declared in this template');
    return;
  }
  const size = fargateSize(taskDefinition);
  if (typeof size === 'string') {
    ctx.addUnpriced(id, type, size);
    return;
  }
  const count = serviceTaskCount(resource);
  if (count.tasks === undefined) {
    ctx.addUnpriced(id, type, count.assumption ?? 'DesiredCount is not a literal number');
    return;
  }
  const desired = count.tasks;
  const spot = JSON.stringify(p.CapacityProviderStrategy ?? []).includes('FARGATE_SPOT');
  const assumption = [
    count.assumption,
    spot ? 'priced at on-demand Fargate rates; the FARGATE_SPOT share costs up to 70% less' : undefined,
  ]
    .filter(Boolean)
    .join('; ');
  const tasks = `${desired} task${desired === 1 ? '' : 's'} x ${sizeLabel(size)}`;
  const rate = ctx.prices.fargate[size.architecture];
  const network = isRecord(p.NetworkConfiguration) ? p.NetworkConfiguration.AwsvpcConfiguration : undefined;
  const publicIp = isRecord(network) && network.AssignPublicIp === 'ENABLED';
  // What each task bills for every hour it runs: the charges differ only in amount and rate.
  const perTaskHour = [
    { what: 'vCPU', amount: size.vcpu, unit: 'vCPU-hour', usd: rate.vcpuHour },
    { what: 'memory', amount: size.gb, unit: 'GB-hour', usd: rate.gbHour },
    // These two only when the task has them.
    ...[
      {
        what: `ephemeral storage beyond ${FARGATE_FREE_EPHEMERAL_GIB} GB`,
        amount: size.extraEphemeralGb,
        unit: 'GB-hour',
        usd: ctx.prices.fargate.ephemeralStorageGbHour,
      },
      {
        what: 'public IPv4 address per task',
        amount: publicIp ? 1 : 0,
        unit: 'IPv4 address-hour',
        usd: ctx.prices.publicIpv4Hour,
      },
    ].filter((charge) => charge.amount > 0),
  ];
  const taskHours = desired * ctx.hours;
  for (const [i, charge] of perTaskHour.entries()) {
    ctx.addFixed({
      resource: id,
      type,
      description: `${tasks}: ${charge.what}`,
      quantity: taskHours * charge.amount,
      unit: charge.unit,
      unitPriceUsd: charge.usd,
      // The service's assumptions are said once, on its first line.
      ...(i === 0 && assumption ? { assumption } : {}),
    });
  }
  ctx.addUsage(id, type, 'tasks above the desired count (deploy surge, scale-out)', [
    { usd: taskHourPrice(ctx, size), per: `task-hour (${sizeLabel(size)})` },
  ]);
};

/** A task definition runs through a service (priced there) or on demand (usage). */
export const priceEcsTaskDefinition: Pricer = (ctx, id, resource) => {
  if (ctx.serviceTaskDefinitions.has(id)) {
    ctx.addFree(id, resource.Type, 'billed through the ECS service that runs it');
    return;
  }
  const compatibilities = resource.Properties?.RequiresCompatibilities;
  if (!Array.isArray(compatibilities) || !compatibilities.includes('FARGATE')) {
    ctx.addFree(id, resource.Type, 'not a Fargate task: the capacity is billed as its instances');
    return;
  }
  const size = fargateSize(resource);
  if (typeof size === 'string') {
    ctx.addUnpriced(id, resource.Type, size);
    return;
  }
  ctx.addUsage(id, resource.Type, 'Fargate task run on demand (RunTask, Step Functions)', [
    { usd: taskHourPrice(ctx, size), per: `task-hour (${sizeLabel(size)})` },
  ]);
};

function lambdaUnitPrices(ctx: PricingContext, gbSecond: number) {
  return [
    { usd: ctx.prices.lambda.perMillionRequests, per: 'million requests' },
    { usd: gbSecond, per: 'GB-second' },
  ];
}

/** Scheduled invocations at a stated duration are fixed; every other invocation is usage. */
export const priceLambdaFunction: Pricer = (ctx, id, resource) => {
  const p = resource.Properties ?? {};
  const memoryMb = asNumber(p.MemorySize) ?? 128;
  const architecture: Architecture =
    Array.isArray(p.Architectures) && p.Architectures.includes('arm64') ? 'arm64' : 'x86_64';
  const gbSecond = ctx.prices.lambda.gbSecond[architecture];
  const scheduled = ctx.scheduled.get(id);
  if (scheduled && scheduled.perMonth > 0) {
    const seconds = Math.min(asNumber(p.Timeout) ?? 3, LAMBDA_BASELINE_SECONDS);
    const perInvocation = ctx.prices.lambda.perMillionRequests / 1e6 + seconds * (memoryMb / 1024) * gbSecond;
    ctx.addFixed({
      resource: id,
      type: resource.Type,
      description: `scheduled invocations, ${memoryMb} MB ${architecture}`,
      quantity: scheduled.perMonth,
      unit: 'invocation',
      unitPriceUsd: perInvocation,
      assumption: `invoked by ${scheduled.schedules.join(', ')}; ${seconds} s per invocation; free tier not credited`,
    });
  }
  const metrics = metricsPerInvocation(resource);
  if (scheduled && scheduled.perMonth > 0 && metrics !== undefined) {
    ctx.addFixed({
      resource: id,
      type: resource.Type,
      description: `GetMetricData of scheduled invocations, ${metrics} metrics each`,
      quantity: scheduled.perMonth * metrics,
      unit: 'metric requested',
      unitPriceUsd: ctx.prices.cloudWatch.getMetricDataPer1kMetrics / 1000,
      assumption: `invoked by ${scheduled.schedules.join(', ')}; as its construct records them (${GET_METRIC_DATA_METRICS_METADATA})`,
    });
  }
  ctx.addUsage(
    id,
    resource.Type,
    scheduled ? 'invocations beyond the schedule, longer runs' : 'invocations (event-driven or deploy-time)',
    lambdaUnitPrices(ctx, gbSecond),
  );
};

/** The metrics each invocation requests with GetMetricData, as the function's construct records them. */
function metricsPerInvocation(resource: CfnResource): number | undefined {
  return asNumber(resource.Metadata?.[GET_METRIC_DATA_METRICS_METADATA]);
}

/** States of a state machine definition, nested Map and Parallel states included. */
function countStates(definition: unknown): number {
  if (!isRecord(definition) || !isRecord(definition.States)) return 0;
  let count = 0;
  for (const state of Object.values(definition.States)) {
    count += 1;
    if (!isRecord(state)) continue;
    count += countStates(state.ItemProcessor) + countStates(state.Iterator);
    if (Array.isArray(state.Branches)) for (const branch of state.Branches) count += countStates(branch);
  }
  return count;
}

function stateCount(resource: CfnResource): number | undefined {
  const p = resource.Properties ?? {};
  const text =
    flattenString(p.DefinitionString) ?? (isRecord(p.Definition) ? JSON.stringify(p.Definition) : undefined);
  if (text === undefined) return undefined;
  try {
    return countStates(JSON.parse(text)) || undefined;
  } catch {
    return undefined;
  }
}

/** Standard workflows bill per state transition: scheduled executions are fixed at one pass each. */
export const priceStateMachine: Pricer = (ctx, id, resource) => {
  const p = resource.Properties ?? {};
  const type = resource.Type;
  if (p.StateMachineType === 'EXPRESS') {
    ctx.addUsage(id, type, 'express workflow requests and duration', [
      { usd: ctx.prices.stepFunctions.expressPerMillionRequests, per: 'million requests' },
    ]);
    return;
  }
  const perTransition = {
    usd: ctx.prices.stepFunctions.standardPer1kTransitions,
    per: 'thousand transitions',
  };
  const scheduled = ctx.scheduled.get(id);
  if (scheduled && scheduled.perMonth > 0) {
    const states = stateCount(resource);
    if (states === undefined) {
      ctx.addUnpriced(id, type, 'scheduled, but its definition could not be read to count states');
    } else {
      ctx.addFixed({
        resource: id,
        type,
        description: `${scheduled.perMonth.toFixed(2)} scheduled executions x ${states} states`,
        quantity: scheduled.perMonth * states,
        unit: 'state transition',
        unitPriceUsd: ctx.prices.stepFunctions.standardPer1kTransitions / 1000,
        assumption: `executed by ${scheduled.schedules.join(', ')}; each state passed once (no retries or loops)`,
      });
    }
  }
  ctx.addUsage(
    id,
    type,
    scheduled ? 'retries, loops and manual executions; its tasks are priced on their own' : 'executions',
    [perTransition],
  );
};

/** The schedule's own invocations; what it invokes is priced on the target. */
export const priceSchedule: Pricer = (ctx, id, resource) => {
  const p = resource.Properties ?? {};
  const expression = asString(p.ScheduleExpression);
  const perMonth = expression === undefined ? undefined : monthlyOccurrences(expression);
  if (perMonth === undefined) {
    ctx.addUnpriced(
      id,
      resource.Type,
      `schedule expression not understood: ${JSON.stringify(p.ScheduleExpression)}`,
    );
    return;
  }
  const disabled = p.State === 'DISABLED';
  ctx.addFixed({
    resource: id,
    type: resource.Type,
    description: `${expression}${disabled ? ' (DISABLED)' : ''}`,
    quantity: disabled ? 0 : perMonth,
    unit: 'invocation',
    unitPriceUsd: ctx.prices.scheduler.perMillionInvocations / 1e6,
    assumption: `the account's ${ctx.prices.scheduler.freeInvocationsPerMonth / 1e6}M free invocations a month not credited`,
  });
};

/** Invocations per month of each Lambda function and state machine that a schedule targets. */
export function scheduledInvocations(
  resources: ReadonlyMap<string, CfnResource>,
): Map<string, { perMonth: number; schedules: string[] }> {
  const result = new Map<string, { perMonth: number; schedules: string[] }>();
  for (const [id, resource] of resources) {
    const p = resource.Properties ?? {};
    let targets: unknown[];
    if (resource.Type === 'AWS::Scheduler::Schedule') {
      if (p.State === 'DISABLED') continue;
      targets = [isRecord(p.Target) ? p.Target.Arn : undefined];
    } else if (resource.Type === 'AWS::Events::Rule' && p.ScheduleExpression !== undefined) {
      if (p.State === 'DISABLED') continue;
      targets = Array.isArray(p.Targets) ? p.Targets.map((t) => (isRecord(t) ? t.Arn : undefined)) : [];
    } else {
      continue;
    }
    const expression = asString(p.ScheduleExpression);
    const perMonth = expression === undefined ? undefined : monthlyOccurrences(expression);
    if (perMonth === undefined) continue;
    for (const arn of targets) {
      const target = targetFunctionOrMachine(resources, referencedId(arn));
      if (target === undefined) continue;
      const entry = result.get(target) ?? { perMonth: 0, schedules: [] };
      entry.perMonth += perMonth;
      entry.schedules.push(id);
      result.set(target, entry);
    }
  }
  return result;
}

/** A Lambda function or state machine id, following a Lambda alias or version to its function. */
function targetFunctionOrMachine(
  resources: ReadonlyMap<string, CfnResource>,
  id: string | undefined,
): string | undefined {
  if (id === undefined) return undefined;
  const resource = resources.get(id);
  if (!resource) return undefined;
  if (resource.Type === 'AWS::Lambda::Function' || resource.Type === 'AWS::StepFunctions::StateMachine')
    return id;
  if (resource.Type === 'AWS::Lambda::Alias' || resource.Type === 'AWS::Lambda::Version') {
    return targetFunctionOrMachine(resources, referencedId(resource.Properties?.FunctionName));
  }
  return undefined;
}
