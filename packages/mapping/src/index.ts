export { applyMapping } from "./applyMapping.js";
export { defaultOnError } from "./compileField.js";
export { type CompiledMapping, compileMapping } from "./compileMapping.js";
export { defaultMappingLimits, type MappingLimits } from "./limits.js";
export type { MappingIssue, MappingResult } from "./mappingResult.js";
export type {
  MappingField,
  MappingOnError,
  MappingScalar,
  MappingSchema,
  MappingSource,
  MappingTransform,
  MappingTransformType,
} from "./mappingSchema.js";
export { mappingTransformTypes } from "./transforms/compileTransform.js";
