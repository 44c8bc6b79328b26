export {
  type Acknowledgement,
  ALLOW_FLAG_REASON,
  acknowledgementMatches,
  allowFlagAcknowledgements,
  applyAcknowledgements,
  DEFAULT_ACKNOWLEDGEMENT_FILE,
  readAcknowledgementFile,
} from './acknowledgements';
export {
  type AssemblyStack,
  environmentOfStack,
  type LoadedAssembly,
  type RawFinding,
  readAssembly,
} from './assembly';
export { reviewStack, type StackPair } from './classify';
export {
  REVIEW_EXIT,
  REVIEW_USAGE,
  type ReviewCommandArgs,
  type ReviewCommandDeps,
  runReviewCli,
  runReviewCommand,
} from './cli';
export { AcknowledgementFileError, AssemblyReadError, ReviewError, ReviewUsageError } from './errors';
export {
  GITHUB_COMMENT_LIMIT,
  type MarkdownOptions,
  REVIEW_MARKER,
  renderJson,
  renderMarkdown,
} from './markdown';
export { ASSET_HASH_PLACEHOLDER, normalizeTemplate } from './normalize';
export {
  APP_ENVIRONMENT,
  type CostEstimator,
  type ReviewOptions,
  reviewAssemblies,
  synthLogTail,
} from './review';
export { STATEFUL_RESOURCE_TYPES } from './rules';
export * from './types';
