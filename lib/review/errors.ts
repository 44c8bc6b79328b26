import { NamedError } from '../errors';

/** An error whose message is meant for the person running the review, as is. */
export class ReviewError extends NamedError {}

/** A base or head that is not a readable cloud assembly (missing directory, manifest, template). */
export class AssemblyReadError extends ReviewError {}

/** review-acknowledgements.json (or the file given with --acknowledgements) is missing or malformed. */
export class AcknowledgementFileError extends ReviewError {}

/** A bad command line: the message and the usage are printed. */
export class ReviewUsageError extends ReviewError {}
