/**
 * One problem with one field. `field` is the field's `dest`; it is `""` for a problem with the mapping as a
 * whole (a schema that is not a mapping, an internal error). Messages name the transform and the kind of
 * value, never the value itself, so that no payload data reaches attempt records or logs through them.
 */
export interface MappingIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * The outcome of applying a mapping. A failure (a `fail_action` field that could not be produced, or a mapping
 * that cannot be applied at all) is final for the delivery: the worker records the attempt as `mapping_error`.
 * `warnings` lists the `warn_action` fields left out, in field order.
 */
export type MappingResult =
  | { readonly ok: true; readonly output: Record<string, unknown>; readonly warnings: MappingIssue[] }
  | { readonly ok: false; readonly failure: MappingIssue; readonly warnings: MappingIssue[] };
