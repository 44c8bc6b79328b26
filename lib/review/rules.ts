import type { ChangeReason } from './types';

/** A resource of a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/**
 * Resources that hold data or identity: losing one loses data (a database, a bucket), keys
 * (KMS, secrets) or history (logs, images) that no redeploy brings back.
 */
export const STATEFUL_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::ElastiCache::ReplicationGroup',
  'AWS::ElastiCache::CacheCluster',
  'AWS::ElastiCache::ServerlessCache',
  'AWS::S3::Bucket',
  'AWS::SecretsManager::Secret',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::ECR::Repository',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
]);

// Policies under which the physical resource survives in some form (kept, or as a snapshot):
// the issue counts those as an orphan, not a destruction.
const RETAINING_POLICIES: ReadonlySet<string> = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);

/**
 * The base template's policy that keeps a resource when CloudFormation removes it
 * (`DeletionPolicy`) or replaces it (`UpdateReplacePolicy`), if it keeps it.
 */
export function retainingPolicy(resource: CfnResource, on: 'removal' | 'replacement'): string | undefined {
  const policy = on === 'removal' ? resource.DeletionPolicy : resource.UpdateReplacePolicy;
  return policy !== undefined && RETAINING_POLICIES.has(policy) ? policy : undefined;
}

const props = (resource: CfnResource | undefined): Record<string, unknown> => resource?.Properties ?? {};
const isTrue = (value: unknown): boolean => value === true || value === 'true';
const blocker = (text: string): ChangeReason => ({ class: 'BLOCKER', text });
const security = (text: string): ChangeReason => ({ class: 'SECURITY', text });

function lbAttribute(resource: CfnResource, key: string): unknown {
  const attributes = props(resource).LoadBalancerAttributes;
  if (!Array.isArray(attributes)) return undefined;
  return (attributes as Array<{ Key?: unknown; Value?: unknown }>).find((a) => a.Key === key)?.Value;
}

function protectedReplicas(resource: CfnResource): number {
  const replicas = props(resource).Replicas;
  if (!Array.isArray(replicas)) return 0;
  return replicas.filter((r) =>
    isTrue((r as { DeletionProtectionEnabled?: unknown }).DeletionProtectionEnabled),
  ).length;
}

/** Losses of deletion protection between the base and head versions of one resource. */
export function deletionProtectionLosses(
  type: string,
  before: CfnResource,
  after: CfnResource,
): ChangeReason[] {
  const was = (key: string) => isTrue(props(before)[key]) && !isTrue(props(after)[key]);
  switch (type) {
    case 'AWS::RDS::DBInstance':
    case 'AWS::RDS::DBCluster':
      return was('DeletionProtection')
        ? [blocker('removes deletion protection (DeletionProtection true → false)')]
        : [];
    case 'AWS::DynamoDB::Table':
      return was('DeletionProtectionEnabled')
        ? [blocker('removes deletion protection (DeletionProtectionEnabled true → false)')]
        : [];
    case 'AWS::DynamoDB::GlobalTable':
      return protectedReplicas(after) < protectedReplicas(before)
        ? [blocker('removes deletion protection from a replica (Replicas[].DeletionProtectionEnabled)')]
        : [];
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
      return isTrue(lbAttribute(before, 'deletion_protection.enabled')) &&
        !isTrue(lbAttribute(after, 'deletion_protection.enabled'))
        ? [blocker('removes deletion protection (deletion_protection.enabled true → false)')]
        : [];
    default:
      return [];
  }
}

const KMS_KEY_PROPERTIES = ['KmsKeyId', 'KmsMasterKeyId', 'KmsKeyArn', 'KMSKeyId'] as const;

function bucketAlgorithms(resource: CfnResource): string[] {
  const config = (
    props(resource).BucketEncryption as { ServerSideEncryptionConfiguration?: unknown } | undefined
  )?.ServerSideEncryptionConfiguration;
  if (!Array.isArray(config)) return [];
  return config.map((rule) =>
    String(
      (rule as { ServerSideEncryptionByDefault?: { SSEAlgorithm?: unknown } }).ServerSideEncryptionByDefault
        ?.SSEAlgorithm ?? '',
    ),
  );
}

/** Losses of encryption at rest or in transit between the base and head versions of one resource. */
export function encryptionLosses(type: string, before: CfnResource, after: CfnResource): ChangeReason[] {
  const reasons: ChangeReason[] = [];
  const turnedOff = (key: string) => isTrue(props(before)[key]) && !isTrue(props(after)[key]);
  for (const key of KMS_KEY_PROPERTIES) {
    if (props(before)[key] !== undefined && props(after)[key] === undefined) {
      reasons.push(blocker(`removes the KMS key (${key})`));
    }
  }
  switch (type) {
    case 'AWS::RDS::DBInstance':
    case 'AWS::RDS::DBCluster':
      if (turnedOff('StorageEncrypted')) reasons.push(blocker('turns off StorageEncrypted'));
      break;
    case 'AWS::ElastiCache::ReplicationGroup':
      if (turnedOff('AtRestEncryptionEnabled')) reasons.push(blocker('turns off AtRestEncryptionEnabled'));
      if (turnedOff('TransitEncryptionEnabled')) reasons.push(blocker('turns off TransitEncryptionEnabled'));
      break;
    case 'AWS::S3::Bucket': {
      const [was, is] = [bucketAlgorithms(before), bucketAlgorithms(after)];
      if (props(before).BucketEncryption !== undefined && props(after).BucketEncryption === undefined) {
        reasons.push(blocker('removes BucketEncryption'));
      } else if (was.some((a) => a.startsWith('aws:kms')) && !is.some((a) => a.startsWith('aws:kms'))) {
        reasons.push(blocker('replaces KMS bucket encryption with S3-managed keys'));
      }
      break;
    }
    case 'AWS::DynamoDB::Table': {
      const enabled = (r: CfnResource) =>
        isTrue((props(r).SSESpecification as { SSEEnabled?: unknown })?.SSEEnabled);
      if (enabled(before) && !enabled(after)) reasons.push(blocker('turns off SSESpecification.SSEEnabled'));
      break;
    }
    case 'AWS::SQS::Queue':
      if (turnedOff('SqsManagedSseEnabled') && props(after).KmsMasterKeyId === undefined) {
        reasons.push(blocker('turns off SqsManagedSseEnabled'));
      }
      break;
    case 'AWS::ECR::Repository':
      if (
        props(before).EncryptionConfiguration !== undefined &&
        props(after).EncryptionConfiguration === undefined
      ) {
        reasons.push(blocker('removes EncryptionConfiguration'));
      }
      break;
  }
  return reasons;
}

function statements(resource: CfnResource | undefined): unknown[] {
  const statement = (props(resource).PolicyDocument as { Statement?: unknown } | undefined)?.Statement;
  if (Array.isArray(statement)) return statement;
  return statement === undefined ? [] : [statement];
}

function deniesInsecureTransport(resource: CfnResource | undefined): boolean {
  return statements(resource).some((s) => {
    const statement = s as { Effect?: unknown; Condition?: Record<string, Record<string, unknown>> };
    if (statement.Effect !== 'Deny') return false;
    return Object.values(statement.Condition ?? {}).some(
      (operands) => operands && String(operands['aws:SecureTransport']) === 'false',
    );
  });
}

// ELB security policies by the weakest TLS they accept: TLS 1.3-only above TLS 1.2+ above
// anything that still accepts TLS 1.0/1.1 (the 2016-08 default, TLS-1-0, TLS-1-1, FS-2018-06).
function tlsPolicyStrength(policy: unknown): number {
  if (typeof policy !== 'string') return 0;
  if (/TLS13-1-3/.test(policy)) return 3;
  if (/TLS13-1-2|TLS-1-2|FS-1-2/.test(policy)) return 2;
  return 1;
}

/**
 * Removals of TLS enforcement between the base and head versions of one resource (`after`
 * absent when the head removes it; `inHead` tells whether a logical id is still in the head).
 */
export function tlsLosses(
  type: string,
  before: CfnResource,
  after: CfnResource | undefined,
  inHead: (logicalId: string) => boolean,
): ChangeReason[] {
  switch (type) {
    case 'AWS::S3::BucketPolicy': {
      // A policy removed with its bucket protects nothing any more: only a surviving bucket matters.
      const bucket = (props(before).Bucket as { Ref?: unknown } | undefined)?.Ref;
      if (!after && typeof bucket === 'string' && !inHead(bucket)) return [];
      return deniesInsecureTransport(before) && !deniesInsecureTransport(after)
        ? [security('removes the bucket policy statement denying requests without TLS (aws:SecureTransport)')]
        : [];
    }
    case 'AWS::RDS::DBParameterGroup':
    case 'AWS::RDS::DBClusterParameterGroup': {
      if (!after) return [];
      const force = (r: CfnResource) =>
        (props(r).Parameters as Record<string, unknown> | undefined)?.['rds.force_ssl'];
      const [was, is] = [force(before), force(after)];
      return String(was) === '1' && String(is) !== '1'
        ? [security(`no longer forces TLS (rds.force_ssl 1 → ${is === undefined ? 'unset' : String(is)})`)]
        : [];
    }
    case 'AWS::ElasticLoadBalancingV2::Listener': {
      if (!after) return [];
      const reasons: ChangeReason[] = [];
      const [was, is] = [props(before).Protocol, props(after).Protocol];
      if ((was === 'HTTPS' || was === 'TLS') && is !== was) {
        reasons.push(security(`listener protocol ${String(was)} → ${String(is ?? 'unset')}`));
      } else if (
        props(before).SslPolicy !== undefined &&
        tlsPolicyStrength(props(after).SslPolicy) < tlsPolicyStrength(props(before).SslPolicy)
      ) {
        reasons.push(
          security(
            `weakens the TLS policy (SslPolicy ${String(props(before).SslPolicy)} → ${String(props(after).SslPolicy ?? 'default')})`,
          ),
        );
      }
      return reasons;
    }
    case 'AWS::ElastiCache::ReplicationGroup': {
      if (!after) return [];
      const [was, is] = [props(before).TransitEncryptionMode, props(after).TransitEncryptionMode];
      return was === 'required' && is !== 'required'
        ? [
            security(
              `TransitEncryptionMode required → ${String(is ?? 'unset')}: clients may connect without TLS`,
            ),
          ]
        : [];
    }
    default:
      return [];
  }
}
