import type { MappingSchema } from "@switchyard/client";
import type { DestinationPlugin } from "@switchyard/destinations";

/**
 * The default mapping a connection starts with (status `generated`): the plugin's own (a CRM's contact fields
 * from the payload fields Meshes documents: `email`, `first_name`...), else no fields. For the webhook no fields
 * is the right default, not a placeholder: it sends the payload as it came. Migration 0013 gave the connections
 * that existed before it no fields.
 */
export function generatedMapping(plugin: Pick<DestinationPlugin, "defaultMapping">): {
  readonly name: string;
  readonly schema: MappingSchema;
} {
  return { name: "Default mapping", schema: structuredClone(plugin.defaultMapping ?? { schema_version: 1, fields: [] }) as MappingSchema };
}
