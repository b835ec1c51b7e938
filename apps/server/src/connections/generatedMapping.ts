import type { MappingSchema } from "@switchyard/client";

/**
 * The default mapping a connection starts with (status `generated`): no fields. For the webhook that is the
 * right default, not a placeholder: it sends the payload as it came. Migration 0013 gave the connections that
 * existed before it the same mapping.
 */
export function generatedMapping(): { readonly name: string; readonly schema: MappingSchema } {
  return { name: "Default mapping", schema: { schema_version: 1, fields: [] } };
}
