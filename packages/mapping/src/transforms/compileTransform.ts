import type { MappingTransformType } from "../mappingSchema.js";
import { toBooleanStep, toNumberStep, toStringStep } from "./conversions.js";
import { toDateStep, toDateTimeStep } from "./dates.js";
import type { TransformStep } from "./refusal.js";
import { lowerStep, substringStep, trimStep, upperStep } from "./text.js";
import { resolveTimeZone, type TimeZone, utc } from "./timeZone.js";

/** A transform ready to run. Only `default` sees absent and null values; the others pass them on unchanged. */
export interface CompiledTransform {
  readonly type: MappingTransformType;
  readonly step: TransformStep;
  readonly seesMissing: boolean;
}

export const mappingTransformTypes: readonly MappingTransformType[] = Object.freeze([
  "to_string",
  "to_number",
  "to_boolean",
  "to_date",
  "to_datetime",
  "default",
  "trim",
  "lower",
  "upper",
  "substring",
]);

const plainSteps: Partial<Record<MappingTransformType, TransformStep>> = {
  to_string: toStringStep,
  to_number: toNumberStep,
  to_boolean: toBooleanStep,
  trim: trimStep,
  lower: lowerStep,
  upper: upperStep,
};

/** Compiles one transform of a field, or says why it cannot be (an unknown type, a bad argument). */
export function compileTransform(transform: unknown): CompiledTransform | string {
  if (typeof transform !== "object" || transform === null) return "is not an object";
  const spec = transform as Record<string, unknown>;
  const type = spec.type as MappingTransformType;
  if (typeof type !== "string" || !mappingTransformTypes.includes(type)) return "has an unknown type";
  const plain = plainSteps[type];
  if (plain !== undefined) return { type, step: plain, seesMissing: false };
  const step = argumentStep(type, spec);
  return typeof step === "string" ? step : { type, step, seesMissing: type === "default" };
}

function argumentStep(type: MappingTransformType, spec: Record<string, unknown>): TransformStep | string {
  switch (type) {
    case "to_date":
    case "to_datetime": {
      const zone = zoneOf(spec.timezone);
      if (typeof zone === "string") return zone;
      return type === "to_date" ? toDateStep(zone) : toDateTimeStep(zone);
    }
    case "default":
      return defaultStep(spec.value);
    default:
      return substring(spec.start, spec.length);
  }
}

function zoneOf(timezone: unknown): TimeZone | string {
  if (timezone === undefined) return utc;
  if (typeof timezone !== "string") return "has a timezone that is not a string";
  return resolveTimeZone(timezone) ?? "names an unknown time zone";
}

/** default: the value when the one so far is absent, null or `""`; otherwise the value so far, unchanged. */
function defaultStep(fallback: unknown): TransformStep | string {
  const scalar =
    fallback === null ||
    typeof fallback === "string" ||
    typeof fallback === "boolean" ||
    (typeof fallback === "number" && Number.isFinite(fallback));
  if (!scalar) return "has a value that is not a string, finite number, boolean or null";
  return (value) => (value === undefined || value === null || value === "" ? fallback : value);
}

function substring(start: unknown, length: unknown): TransformStep | string {
  if (!Number.isSafeInteger(start) || (start as number) < 0) return "has a start that is not an integer ≥ 0";
  if (length !== undefined && (!Number.isSafeInteger(length) || (length as number) < 1)) return "has a length that is not an integer ≥ 1";
  return substringStep(start as number, length as number | undefined);
}
