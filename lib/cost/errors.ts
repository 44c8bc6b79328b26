import { NamedError } from '../errors';

/** An error of the cost estimator whose message is meant for the operator as is. */
export class CostError extends NamedError {}

/** The cloud assembly directory or its manifest is missing or unreadable. */
export class AssemblyNotFoundError extends CostError {}

/** A template or manifest is not what `cdk synth` writes. */
export class InvalidTemplateError extends CostError {}

/** An environment was asked for that the assembly does not hold. */
export class UnknownEnvironmentError extends CostError {}

/** Bad command line. */
export class CostUsageError extends CostError {}
