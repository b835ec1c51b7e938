import type { ConnectionActions, IntegrationType } from "@switchyard/client";
import {
  askProvider,
  type ConnectionDeps,
  mustFindConnection,
  openConnectionConfig,
  pluginFor,
  providerContext,
} from "./connections.service.js";

/**
 * Each action of the connection's integration with the items of the connected account it can target, asked of
 * the provider now by plugins that have live data (`loadActionData`); the others' actions have no items.
 */
export async function getConnectionActions(
  deps: Pick<ConnectionDeps, "db" | "secretBox" | "addressPolicy" | "providers">,
  organizationId: string,
  id: string,
): Promise<ConnectionActions> {
  const connection = await mustFindConnection(deps.db, organizationId, id);
  const plugin = pluginFor(connection.integration_type);
  const { loadActionData } = plugin;
  const live = loadActionData
    ? await askProvider(() => loadActionData.call(plugin, openConnectionConfig(deps.secretBox, connection), providerContext(deps)))
    : {};
  const actions = plugin.description.actions.map(({ key, label, noun }) => [key, { key, label, noun, items: [...(live[key] ?? [])] }]);
  return {
    connection_id: connection.id,
    workspace_id: connection.workspace_id,
    type: connection.integration_type as IntegrationType,
    actions: Object.fromEntries(actions),
  };
}
