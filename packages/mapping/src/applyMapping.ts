import { compileMapping } from "./compileMapping.js";
import type { MappingLimits } from "./limits.js";
import type { MappingResult } from "./mappingResult.js";
import type { MappingSchema } from "./mappingSchema.js";

/** Compiles and applies a mapping in one call. Never throws. A worker should compile once per mapping instead. */
export function applyMapping(schema: MappingSchema, payload: unknown, limits?: Partial<MappingLimits>): MappingResult {
  return compileMapping(schema, limits).apply(payload);
}
