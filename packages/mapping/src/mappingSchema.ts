/**
 * A field mapping, structurally the same as Meshes' `MappingSchema` (and the spec's, which the server validates
 * and stores). Defined here so that this package depends on nothing of ours. The engine does not trust these
 * types: `compileMapping` accepts any value and turns whatever does not fit into issues, never exceptions.
 */
export type MappingScalar = string | number | boolean | null;

export type MappingSource = { type: "path"; value: string } | { type: "literal"; value: MappingScalar };

export type MappingTransform =
  | { type: "to_string" }
  | { type: "to_number" }
  | { type: "to_boolean" }
  | { type: "to_date"; timezone?: string }
  | { type: "to_datetime"; timezone?: string }
  | { type: "default"; value: MappingScalar }
  | { type: "trim" }
  | { type: "lower" }
  | { type: "upper" }
  | { type: "substring"; start: number; length?: number };

export type MappingTransformType = MappingTransform["type"];

/** What happens when a field cannot be produced. Default `warn_action` (see README). */
export type MappingOnError = "skip_field" | "warn_action" | "fail_action";

export interface MappingField {
  /** A dot path into the output: `properties.email` writes `{ properties: { email } }`. */
  dest: string;
  source: MappingSource;
  /** Applied in order; at most 10 in Meshes' schema. */
  transforms?: MappingTransform[];
  on_error?: MappingOnError;
  notes?: string;
}

export interface MappingSchema {
  schema_version: 1;
  fields: MappingField[];
  meta?: { name?: string; notes?: string };
}
