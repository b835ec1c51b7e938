import { type CompiledField, compileField } from "./compileField.js";
import { jsonBytes } from "./jsonBytes.js";
import { type MappingLimits, resolveMappingLimits } from "./limits.js";
import type { MappingIssue, MappingResult } from "./mappingResult.js";
import type { MappingSchema } from "./mappingSchema.js";
import { OutputWriter } from "./outputWriter.js";
import { Refusal } from "./transforms/refusal.js";

/** A mapping compiled once (paths parsed, transforms and time zones resolved), to apply to many payloads. */
export interface CompiledMapping {
  readonly limits: MappingLimits;
  /** Maps one payload. Never throws; the payload is not modified (values taken from it are shared, not copied). */
  apply(payload: unknown): MappingResult;
}

/**
 * Compiles a mapping. Never throws, whatever `schema` is: a field that cannot be compiled (a bad dest, path,
 * transform or time zone) fails on every apply under its own `on_error`; a value that is not a mapping at all
 * gives a mapping whose every apply fails (issue field `""`).
 */
export function compileMapping(schema: MappingSchema, limits?: Partial<MappingLimits>): CompiledMapping {
  try {
    const resolved = resolveMappingLimits(limits);
    const spec = (typeof schema === "object" && schema !== null ? schema : {}) as Record<string, unknown>;
    if (spec.schema_version !== 1) return alwaysFailing(resolved, "the mapping's schema_version is not 1");
    if (!Array.isArray(spec.fields)) return alwaysFailing(resolved, "the mapping's fields are not an array");
    const fields = spec.fields.map(compileField);
    return Object.freeze({ limits: resolved, apply: (payload: unknown) => applyFields(fields, resolved, payload) });
  } catch {
    return alwaysFailing(resolveMappingLimits(undefined), "the mapping could not be compiled");
  }
}

function applyFields(fields: readonly CompiledField[], limits: MappingLimits, payload: unknown): MappingResult {
  const warnings: MappingIssue[] = [];
  try {
    const writer = new OutputWriter(limits.maxOutputBytes);
    for (const field of fields) {
      const problem = produceSafely(field, payload, writer, limits);
      if (problem === undefined || field.onError === "skip_field") continue;
      const issue = { field: field.name, message: problem };
      if (field.onError === "fail_action") return { ok: false, failure: issue, warnings };
      warnings.push(issue);
    }
    return { ok: true, output: writer.root, warnings };
  } catch {
    return { ok: false, failure: { field: "", message: "the mapping could not be applied (internal error)" }, warnings };
  }
}

function produceSafely(field: CompiledField, payload: unknown, writer: OutputWriter, limits: MappingLimits): string | undefined {
  try {
    return produce(field, payload, writer, limits);
  } catch {
    return "the field could not be produced (an error was raised reading or transforming its value)";
  }
}

/** Reads, transforms and writes one field; returns why it could not be, or `undefined` (written, or absent). */
function produce(field: CompiledField, payload: unknown, writer: OutputWriter, limits: MappingLimits): string | undefined {
  if (field.problem !== undefined) return field.problem;
  let value = field.read(payload);
  for (let index = 0; index < field.transforms.length; index++) {
    const transform = field.transforms[index] as (typeof field.transforms)[number];
    if ((value === undefined || value === null) && !transform.seesMissing) continue;
    value = transform.step(value);
    if (value instanceof Refusal) return `transform ${index + 1} (${transform.type}): ${value.reason}`;
  }
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.length > limits.maxStringLength)
    return `the value is longer than ${limits.maxStringLength} characters`;
  const bytes = jsonBytes(value);
  if (bytes === undefined) return "the value has no JSON form";
  return writer.write(field.dest, value, bytes);
}

function alwaysFailing(limits: MappingLimits, message: string): CompiledMapping {
  return Object.freeze({ limits, apply: (): MappingResult => ({ ok: false, failure: { field: "", message }, warnings: [] }) });
}
