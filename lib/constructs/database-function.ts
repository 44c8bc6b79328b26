import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { CallSpec } from '../../core/calls';
import { AppFunction, type AppFunctionProps, type FunctionLogProps, functionLogs } from './app-function';
import type { Database } from './database';

/** Where a database Lambda runs and logs: what each construct of one takes. */
export interface DatabaseFunctionPlacement extends FunctionLogProps {
  /** The database's VPC. */
  readonly vpc: ec2.IVpc;
  readonly database: Database;
}

/** What a database Lambda calls in AWS besides the database itself: the credentials secret. */
export type DatabaseFunctionCalls = { readonly databaseSecret: CallSpec };

/** Properties of {@link addDatabaseFunction}: an AppFunction's, less its placement. */
export interface DatabaseFunctionProps<Values, Input>
  extends Omit<
    AppFunctionProps<Values, Input>,
    'vpc' | 'vpcSubnets' | 'securityGroups' | keyof FunctionLogProps
  > {
  /** The function's declared calls (lambdas/<name>/calls.ts). */
  readonly calls: DatabaseFunctionCalls;
  /** Description of the database's ingress rule for the function, e.g. `Maintenance Lambda`. */
  readonly admittedAs: string;
}

/**
 * A Lambda that connects to the database (maintenance, migrations, inspection): in the VPC's
 * private subnets with egress, granted the read of the credentials secret, and admitted by
 * the database's security group. A function and not a construct, like addLoggedFargateTask:
 * a level of its own would change the logical ids of the functions already deployed.
 */
export function addDatabaseFunction<Values, Input>(
  scope: Construct,
  id: string,
  placement: DatabaseFunctionPlacement,
  props: DatabaseFunctionProps<Values, Input>,
): AppFunction<Values, Input> {
  const { calls, admittedAs, ...functionProps } = props;
  const { database } = placement;
  const fn = new AppFunction(scope, id, {
    ...functionProps,
    ...functionLogs(placement),
    vpc: placement.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  });
  fn.grantCalls(calls, { databaseSecret: database.secretReadGrant() });
  database.allowFrom(fn.lambda, admittedAs);
  return fn;
}
