import { Names, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';

/**
 * Lets `peer` reach `target` on `port`, declaring the ingress rule in the peer's stack.
 * The stateless stacks depend on the stateful one, never the reverse: a rule placed in the
 * stateful stack that names a service-stack group would make the stacks depend on each other
 * (CDK only avoids that on its own when it can prove both stacks share an account).
 */
export function allowIngress(
  target: ec2.ISecurityGroup,
  peer: ec2.IConnectable & IConstruct,
  port: ec2.Port,
  description: string,
): void {
  if (Stack.of(peer) === Stack.of(target)) {
    target.connections.allowFrom(peer, port, description);
    return;
  }
  const id = `Ingress${Names.nodeUniqueId(target.node)}`;
  const imported =
    (peer.node.tryFindChild(id) as ec2.ISecurityGroup | undefined) ??
    ec2.SecurityGroup.fromSecurityGroupId(peer, id, target.securityGroupId, {
      mutable: true,
      allowAllOutbound: false,
    });
  imported.connections.allowFrom(peer, port, description);
}
