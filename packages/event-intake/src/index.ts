export { assembleBulkResult, type BulkErrorRecord, type BulkRecord, type BulkResult, type ItemOutcome } from "./assembleBulkResult.js";
export {
  createEventInputValidator,
  type ItemVerdict,
  uuidPattern,
  type ValidateEventInput,
  type ValidEventInput,
} from "./createEventInputValidator.js";
export { type ErrorDetail, type ItemError, reasonPhrases, validationError } from "./itemError.js";
export { defaultIngestLimits, type IngestLimits } from "./limits.js";
