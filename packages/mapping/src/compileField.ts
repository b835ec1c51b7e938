import { compileDestPath, type DestSegment } from "./destPath.js";
import type { MappingOnError } from "./mappingSchema.js";
import { compileSourcePath, type PathReader } from "./sourcePath.js";
import { type CompiledTransform, compileTransform } from "./transforms/compileTransform.js";

/** What a field does when it cannot be produced, unless it says: see the README for why. */
export const defaultOnError: MappingOnError = "warn_action";

const onErrors: readonly unknown[] = ["skip_field", "warn_action", "fail_action"];

/** A field ready to apply; `problem` when it cannot be (it then fails every time, under its `on_error`). */
export interface CompiledField {
  /** The field's `dest` as given, for issues (`fields.<index>` when it is not a string). */
  readonly name: string;
  readonly onError: MappingOnError;
  readonly dest: readonly DestSegment[];
  readonly read: PathReader;
  readonly transforms: readonly CompiledTransform[];
  readonly problem: string | undefined;
}

export function compileField(field: unknown, index: number): CompiledField {
  const spec = typeof field === "object" && field !== null ? (field as Record<string, unknown>) : {};
  const name = typeof spec.dest === "string" ? spec.dest : `fields.${index}`;
  const onError = onErrors.includes(spec.on_error) ? (spec.on_error as MappingOnError) : defaultOnError;
  const unusable = (problem: string): CompiledField => ({ name, onError, dest: [], read: readNothing, transforms: [], problem });
  if (spec !== field) return unusable("the field is not an object");
  const dest = compileDestPath(spec.dest);
  if (typeof dest === "string") return unusable(dest);
  const read = compileSource(spec.source);
  if (typeof read === "string") return unusable(read);
  const transforms = compileTransforms(spec.transforms);
  if (typeof transforms === "string") return unusable(transforms);
  return { name, onError, dest, read, transforms, problem: undefined };
}

function compileSource(source: unknown): PathReader | string {
  if (typeof source !== "object" || source === null) return "the source is not an object";
  const { type, value } = source as Record<string, unknown>;
  if (type === "path") return compileSourcePath(value);
  if (type !== "literal") return "the source type is neither path nor literal";
  const scalar =
    value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
  return scalar ? () => value : "the literal is not a string, finite number, boolean or null";
}

function compileTransforms(transforms: unknown): readonly CompiledTransform[] | string {
  if (transforms === undefined) return [];
  if (!Array.isArray(transforms)) return "the transforms are not an array";
  const compiled: CompiledTransform[] = [];
  for (const [index, transform] of transforms.entries()) {
    const result = compileTransform(transform);
    if (typeof result === "string") return `transform ${index + 1} ${result}`;
    compiled.push(result);
  }
  return compiled;
}

function readNothing(): undefined {
  return undefined;
}
