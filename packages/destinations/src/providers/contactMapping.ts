import type { MappingSchema } from "@switchyard/mapping";
import { deepFreeze } from "./deepFreeze.js";

/**
 * A new connection's default mapping for a provider that keeps contacts: the payload's `email` onto the provider's
 * email field (an event without one fails the action), and each other payload path in `optional` onto the field it
 * names, skipped when the payload lacks it. Frozen, as every connection of the plugin shares it.
 */
export function contactMapping(emailField: string, optional: Readonly<Record<string, string>>, name?: string): MappingSchema {
  return deepFreeze<MappingSchema>({
    schema_version: 1,
    fields: [
      { dest: emailField, source: { type: "path", value: "email" }, on_error: "fail_action" },
      ...Object.entries(optional).map(([path, dest]) => ({
        dest,
        source: { type: "path" as const, value: path },
        on_error: "skip_field" as const,
      })),
    ],
    ...(name === undefined ? {} : { meta: { name } }),
  });
}
