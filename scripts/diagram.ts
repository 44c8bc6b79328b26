/**
 * The architecture picture of one environment (default prod) as a Mermaid flowchart, derived
 * from the synthesized templates (resource types, names and the Ref/GetAtt/Sub/GetStackOutput
 * links between resources and stacks), so it cannot drift from the code. `npm run diagram`
 * synthesizes, then runs this with `--readme README.md`. Writes docs/architecture.md and prints
 * the block; `--readme <file>` also replaces the text between `<!-- architecture:start -->`
 * and `<!-- architecture:end -->` in that file. Options: `--assembly <dir>` (default cdk.out),
 * `--env <name>` (default prod).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Json = unknown;
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}
interface Template {
  readonly Resources?: Record<string, Resource>;
  readonly Outputs?: Record<string, { readonly Value: Json }>;
}

/** How a resource type is drawn: its group, its place in the left-to-right flow, its shape. */
interface Kind {
  readonly group: string;
  readonly rank: number;
  readonly shape: (label: string) => string;
}
const box = (l: string) => `["${l}"]`;
const round = (l: string) => `("${l}")`;
const db = (l: string) => `[("${l}")]`;
const hex = (l: string) => `{{"${l}"}}`;
const flag = (l: string) => `>"${l}"]`;

/** The main components; everything else is either a connector or plumbing left out. */
const KINDS: Record<string, Kind> = {
  'AWS::Budgets::Budget': { group: 'budgets', rank: 1, shape: flag },
  'AWS::CloudWatch::Alarm': { group: 'alarms', rank: 1, shape: flag },
  'AWS::CloudWatch::CompositeAlarm': { group: 'alarms', rank: 1, shape: flag },
  'AWS::Scheduler::Schedule': { group: 'schedules', rank: 1, shape: flag },
  'AWS::ElasticLoadBalancingV2::LoadBalancer': { group: 'alb', rank: 2, shape: hex },
  'AWS::Events::Rule': { group: 'rules', rank: 2, shape: flag },
  'AWS::SNS::Topic': { group: 'topics', rank: 3, shape: round },
  'AWS::ElasticLoadBalancingV2::TargetGroup': { group: 'targets', rank: 3, shape: box },
  'AWS::StepFunctions::StateMachine': { group: 'workflows', rank: 4, shape: box },
  'AWS::ECS::Service': { group: 'services', rank: 5, shape: box },
  'AWS::Lambda::Function': { group: 'lambdas', rank: 5, shape: round },
  'AWS::ECS::TaskDefinition': { group: 'tasks', rank: 6, shape: box },
  'AWS::RDS::DBInstance': { group: 'data', rank: 7, shape: db },
  'AWS::RDS::DBCluster': { group: 'data', rank: 7, shape: db },
  'AWS::ElastiCache::ReplicationGroup': { group: 'data', rank: 7, shape: db },
  'AWS::ElastiCache::ServerlessCache': { group: 'data', rank: 7, shape: db },
  'AWS::DynamoDB::Table': { group: 'data', rank: 7, shape: db },
  'AWS::SecretsManager::Secret': { group: 'secrets', rank: 7, shape: db },
};

/** Resources that only link two components: their references become edges between them. */
const CONNECTORS = new Set([
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::SNS::Subscription',
  'AWS::Lambda::Permission',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::SecretsManager::SecretTargetAttachment',
]);

/** Many alarms or budgets would drown the picture: each of these types is drawn as one node. */
const COLLAPSED: Record<string, string> = {
  'AWS::CloudWatch::Alarm': 'CloudWatch alarms',
  'AWS::CloudWatch::CompositeAlarm': 'CloudWatch alarms',
  'AWS::Budgets::Budget': 'AWS Budgets',
};

/** A logical ID without CDK's 8-character hash and without the stack-name prefix CDK sometimes adds. */
function baseName(logicalId: string): string {
  return logicalId
    .replace(/[0-9A-F]{8}[0-9a-f]{40}$/, '')
    .replace(/[0-9A-F]{8}$/, '')
    .replace(/^faaisystem[a-z]+(stateful|service)/, '');
}

/** Every resource a value refers to, as `stack/logicalId` (cross-stack outputs followed). */
function references(value: Json, stack: string, outputs: Map<string, Set<string>>, into = new Set<string>()) {
  if (Array.isArray(value)) {
    for (const v of value) references(v, stack, outputs, into);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) into.add(`${stack}/${v}`);
      else if (key === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string')
        into.add(`${stack}/${v[0]}`);
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        if (typeof text === 'string')
          for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)[.}]/g))
            if (m[1] && !m[1].startsWith('AWS')) into.add(`${stack}/${m[1]}`);
        if (Array.isArray(v)) references(v[1], stack, outputs, into);
      } else if (key === 'Fn::GetStackOutput' && v !== null && typeof v === 'object') {
        const { StackName, OutputName } = v as { StackName?: string; OutputName?: string };
        for (const r of outputs.get(`${StackName}/${OutputName}`) ?? []) into.add(r);
      } else references(v, stack, outputs, into);
    }
  }
  return into;
}

/** The node a component resource is drawn as (null: left out). */
function nodeOf(resource: Resource, logicalId: string, serviceTaskDefs: ReadonlySet<string>, key: string) {
  const kind = KINDS[resource.Type];
  if (!kind) return null;
  const collapsed = COLLAPSED[resource.Type];
  if (collapsed) return { id: kind.group, label: collapsed, kind };
  const props = resource.Properties ?? {};
  let label = baseName(logicalId);
  if (resource.Type === 'AWS::Lambda::Function') {
    // Only this project's functions (AppFunction names them); CDK's provider functions are plumbing.
    const vars = (props.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables;
    const service = vars?.POWERTOOLS_SERVICE_NAME;
    if (typeof service !== 'string') return null;
    label = `λ ${service}`;
  } else if (resource.Type === 'AWS::ECS::TaskDefinition') {
    if (serviceTaskDefs.has(key)) return null; // drawn as its service
    label = `${label} (task)`;
  } else if (resource.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer') label = `ALB ${label}`;
  else if (resource.Type === 'AWS::DynamoDB::Table') label = `DynamoDB ${label}`;
  else if (resource.Type.startsWith('AWS::RDS::')) label = `RDS ${label}`;
  else if (resource.Type.startsWith('AWS::ElastiCache::')) label = `Valkey ${label}`;
  else if (resource.Type === 'AWS::SecretsManager::Secret') label = `Secret ${label}`;
  else if (resource.Type === 'AWS::SNS::Topic') label = `SNS ${label}`;
  else if (resource.Type === 'AWS::Scheduler::Schedule') label = `Schedule ${label}`;
  else if (resource.Type === 'AWS::Events::Rule') label = `Rule ${label}`;
  const id = `${kind.group}_${label.replace(/[^A-Za-z0-9]+/g, '_')}`.replace(/_+$/, '');
  return { id, label, kind };
}

/** The Mermaid flowchart of environment `envName` in the cloud assembly at `assemblyDir`. */
export function buildDiagram(assemblyDir: string, envName = 'prod'): string {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const prefix = `fa-ai-system-${envName}-`;
  const stacks = Object.entries(manifest.artifacts)
    .filter(([name, a]) => a.type === 'aws:cloudformation:stack' && name.startsWith(prefix))
    .map(([name, a]) => ({
      name,
      template: JSON.parse(
        readFileSync(join(assemblyDir, a.properties?.templateFile ?? `${name}.template.json`), 'utf8'),
      ) as Template,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (stacks.length === 0) throw new Error(`no stacks of environment ${envName} in ${assemblyDir}`);

  const outputs = new Map<string, Set<string>>();
  for (const { name, template } of stacks)
    for (const [out, { Value }] of Object.entries(template.Outputs ?? {}))
      outputs.set(`${name}/${out}`, references(Value, name, new Map()));

  const resources = new Map<string, Resource>();
  const refs = new Map<string, Set<string>>();
  for (const { name, template } of stacks)
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      resources.set(`${name}/${id}`, resource);
      refs.set(`${name}/${id}`, references(resource.Properties ?? {}, name, outputs));
    }
  const serviceTaskDefs = new Set<string>();
  for (const [key, r] of resources)
    if (r.Type === 'AWS::ECS::Service')
      for (const t of refs.get(key) ?? [])
        if (resources.get(t)?.Type === 'AWS::ECS::TaskDefinition') serviceTaskDefs.add(t);

  const nodes = new Map<string, { id: string; label: string; kind: Kind }>();
  const nodeByResource = new Map<string, string>();
  for (const [key, r] of resources) {
    const node = nodeOf(r, key.split('/')[1] ?? key, serviceTaskDefs, key);
    if (!node) continue;
    nodes.set(node.id, node);
    nodeByResource.set(key, node.id);
  }
  // A service's task definition is a connector: what its containers use is what the service uses.
  const isConnector = (key: string) =>
    CONNECTORS.has(resources.get(key)?.Type ?? '') || serviceTaskDefs.has(key);
  // The components a connector links: those it refers to, and those its own connectors (e.g. a
  // role's policies) refer to.
  const linked = (connector: string): Set<string> => {
    const out = new Set<string>();
    for (const r of refs.get(connector) ?? []) {
      const n = nodeByResource.get(r);
      if (n) out.add(n);
    }
    for (const [key, rs] of refs)
      if (isConnector(key) && rs.has(connector))
        for (const r of rs) {
          const n = nodeByResource.get(r);
          if (n) out.add(n);
          // A policy naming another role (iam:PassRole) links to the task that runs with it.
          if (
            resources.get(connector)?.Type === 'AWS::IAM::Role' &&
            r !== connector &&
            resources.get(r)?.Type === 'AWS::IAM::Role'
          )
            for (const [task, trs] of refs)
              if (trs.has(r) && resources.get(task)?.Type === 'AWS::ECS::TaskDefinition') {
                const t = nodeByResource.get(task);
                if (t) out.add(t);
              }
        }
    return out;
  };

  const edges = new Set<string>();
  const connect = (a: string, b: string) => {
    const na = nodes.get(a);
    const nb = nodes.get(b);
    if (!na || !nb || a === b) return;
    // Alarms name what they watch in dimensions; only where they notify is a connection.
    if ((a === 'alarms' && nb.kind.group !== 'topics') || (b === 'alarms' && na.kind.group !== 'topics'))
      return;
    // The flow runs left to right: from the lower-ranked component to the higher.
    const [from, to] =
      na.kind.rank < nb.kind.rank || (na.kind.rank === nb.kind.rank && a < b) ? [a, b] : [b, a];
    edges.add(`${from} --> ${to}`);
  };
  for (const [key, rs] of refs) {
    const own = nodeByResource.get(key);
    if (own) {
      for (const r of rs) {
        const target = nodeByResource.get(r);
        if (target) connect(own, target);
        else if (isConnector(r)) for (const n of linked(r)) connect(own, n);
      }
    } else if (isConnector(key)) {
      const ns = [...linked(key)];
      // A connector referring to two components (a listener, a subscription) joins them; a
      // policy does not: it grants its role, which the role's owner already draws.
      const type = resources.get(key)?.Type;
      if (type !== 'AWS::IAM::Policy' && type !== 'AWS::IAM::Role' && ns.length === 2 && ns[0] && ns[1]) {
        connect(ns[0], ns[1]);
      }
    }
  }
  for (const [key, r] of resources) {
    const own = nodeByResource.get(key);
    if (!own) continue;
    const props = r.Properties ?? {};
    if (r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer' && props.Scheme !== 'internal') {
      nodes.set('internet', {
        id: 'internet',
        label: 'Internet',
        kind: { group: 'internet', rank: 0, shape: round },
      });
      connect('internet', own);
    }
    // Rules matching alarm state changes by name pattern refer to no alarm resource.
    const pattern = props.EventPattern as { source?: unknown } | undefined;
    if (r.Type === 'AWS::Events::Rule' && JSON.stringify(pattern?.source ?? []).includes('aws.cloudwatch'))
      edges.add(`alarms --> ${own}`);
  }

  const lines = ['flowchart LR'];
  const groups = new Map<string, string[]>();
  for (const node of [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const list = groups.get(node.kind.group) ?? [];
    list.push(`  ${node.id}${node.kind.shape(node.label)}`);
    groups.set(node.kind.group, list);
  }
  for (const group of [...groups.keys()].sort()) lines.push(...(groups.get(group) ?? []));
  lines.push(...[...edges].sort().map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

/** docs/architecture.md for the diagram. */
export function renderMarkdown(diagram: string, envName: string): string {
  return [
    `# Architecture (${envName})`,
    '',
    '<!-- Generated by `npm run diagram` from the synthesized templates; do not edit by hand. -->',
    '',
    '```mermaid',
    diagram.trimEnd(),
    '```',
    '',
  ].join('\n');
}

/** `text` with the block between the architecture markers replaced by `diagram`. */
export function replaceBetweenMarkers(text: string, diagram: string): string {
  const start = '<!-- architecture:start -->';
  const end = '<!-- architecture:end -->';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers ${start} ... ${end} not found`);
  return `${text.slice(0, i + start.length)}\n\n\`\`\`mermaid\n${diagram.trimEnd()}\n\`\`\`\n\n${text.slice(j)}`;
}

function main(argv: readonly string[]): void {
  const option = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const envName = option('--env') ?? 'prod';
  const diagram = buildDiagram(option('--assembly') ?? 'cdk.out', envName);
  writeFileSync(join(__dirname, '..', 'docs', 'architecture.md'), renderMarkdown(diagram, envName));
  const readme = option('--readme');
  if (readme) writeFileSync(readme, replaceBetweenMarkers(readFileSync(readme, 'utf8'), diagram));
  process.stdout.write(`\`\`\`mermaid\n${diagram}\`\`\`\n`);
}

if (require.main === module) main(process.argv.slice(2));
