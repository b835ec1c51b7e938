import type { AttemptFacts } from "../destinationPlugin.js";
import type { IntegrationDescription } from "../integrationDescription.js";
import { failedBeforeSending } from "./callProvider.js";

/** A rule names an action the plugin does not have: a final `mapping` failure that lists the ones it has. */
export function noSuchAction(description: Pick<IntegrationDescription, "name" | "actions">, action: string): AttemptFacts {
  return failedBeforeSending(
    "mapping",
    `${description.name} has no action "${action}" (it has: ${description.actions.map((a) => a.key).join(", ")})`,
  );
}
