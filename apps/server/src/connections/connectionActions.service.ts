import type { ConnectionActions, IntegrationType } from "@switchyard/client";
import { type ConnectionDeps, mustFindConnection, openConnectionConfig, pluginFor } from "./connections.service.js";

/**
 * Each action of the connection's integration with the items of the connected account it can target, asked of
 * the provider now by plugins that have live data (`loadActionData`); the others' actions have no items.
 */
export async function getConnectionActions(
  deps: Pick<ConnectionDeps, "db" | "secretBox">,
  organizationId: string,
  id: string,
): Promise<ConnectionActions> {
  const connection = await mustFindConnection(deps.db, organizationId, id);
  const plugin = pluginFor(connection.integration_type);
  const live = plugin.loadActionData ? await plugin.loadActionData(openConnectionConfig(deps.secretBox, connection)) : {};
  const actions = plugin.description.actions.map(({ key, label, noun }) => [key, { key, label, noun, items: [...(live[key] ?? [])] }]);
  return {
    connection_id: connection.id,
    workspace_id: connection.workspace_id,
    type: connection.integration_type as IntegrationType,
    actions: Object.fromEntries(actions),
  };
}
