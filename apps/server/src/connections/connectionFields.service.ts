import { createHash } from "node:crypto";
import type { ConnectionFieldCatalog, IntegrationType } from "@switchyard/client";
import type { ConnectionFieldDefinition } from "@switchyard/destinations";
import { uuidv7 } from "../ids.js";
import type { ConnectionRow } from "./connections.repository.js";
import {
  askProvider,
  type ConnectionDeps,
  mustFindConnection,
  openConnectionConfig,
  pluginFor,
  providerContext,
} from "./connections.service.js";
import { type FieldCatalogRow, findFieldCatalog, saveFieldCatalog } from "./fieldCatalogs.repository.js";

/**
 * The connection's destination field catalog: the stored one, made on the first read; with `refresh`, made
 * again now (from the provider, for a plugin that asks one). `caller` is recorded as the creator of a first catalog.
 */
export async function getConnectionFields(
  deps: Pick<ConnectionDeps, "db" | "secretBox" | "addressPolicy" | "providers">,
  organizationId: string,
  id: string,
  options: { readonly refresh: boolean; readonly caller: string },
): Promise<ConnectionFieldCatalog> {
  const connection = await mustFindConnection(deps.db, organizationId, id);
  const stored = options.refresh ? undefined : await findFieldCatalog(deps.db, connection.id);
  return toCatalog(stored ?? (await makeCatalog(deps, connection, options.caller)), connection);
}

async function makeCatalog(
  deps: Pick<ConnectionDeps, "db" | "secretBox" | "addressPolicy" | "providers">,
  connection: ConnectionRow,
  caller: string,
): Promise<FieldCatalogRow> {
  const plugin = pluginFor(connection.integration_type);
  const { loadFields } = plugin;
  const fields = loadFields
    ? await askProvider(() => loadFields.call(plugin, openConnectionConfig(deps.secretBox, connection), providerContext(deps)))
    : plugin.description.fields;
  return saveFieldCatalog(deps.db, {
    id: uuidv7(),
    connection_id: connection.id,
    catalog_version: catalogVersion(fields),
    fields,
    refreshed_at: new Date(),
    created_by: caller,
  });
}

/** A digest of the fields: a catalog made again with the same fields keeps its version, so a mapping's `catalog_version` stays meaningful. */
export function catalogVersion(fields: readonly ConnectionFieldDefinition[]): string {
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex").slice(0, 16);
}

function toCatalog(row: FieldCatalogRow, connection: ConnectionRow): ConnectionFieldCatalog {
  return {
    id: row.id,
    workspace_id: connection.workspace_id,
    connection_id: connection.id,
    integration_type: connection.integration_type as IntegrationType,
    catalog_version: row.catalog_version,
    refreshed_at: row.refreshed_at.toISOString(),
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    fields: row.fields as ConnectionFieldCatalog["fields"],
  };
}
