import type { ConnectionDefaultMappingInput, ConnectionDefaultMappingResult, IntegrationType, MappingSchema } from "@switchyard/client";
import { type Db, inTransaction } from "@switchyard/db";
import type { ErrorDetail } from "@switchyard/event-intake";
import { ConflictError, UnprocessableEntityError } from "../http/errors.js";
import { optionalField } from "../http/optionalField.js";
import { uuidv7 } from "../ids.js";
import type { ConnectionRow } from "./connections.repository.js";
import { mustFindConnection } from "./connections.service.js";
import { type DefaultMappingRow, findDefaultMapping, storeMappingVersion } from "./defaultMappings.repository.js";
import { findFieldCatalog } from "./fieldCatalogs.repository.js";
import { mappingProblems } from "./mappingRules.js";

/** The connection's default mapping: `generated` as it was made with the connection, or `stored` once a PUT stored one. */
export async function getDefaultMapping(db: Db, organizationId: string, id: string): Promise<ConnectionDefaultMappingResult> {
  const connection = await mustFindConnection(db, organizationId, id);
  return toResult(await mustFindMapping(db, connection.id), connection);
}

/**
 * Stores `input.schema` as the next version of the connection's default mapping, against the catalog version
 * current now. Refused, changing nothing: 422 for a mapping the spec cannot refuse (a repeated `dest`), 409 when
 * `expected_version`, `workspace_id` or `mapping_id` does not match the current mapping (a client working from a
 * stale or another connection's copy). The mapping row is locked, so concurrent stores take turns and each
 * `expected_version` is checked against the version it would replace.
 */
export async function storeDefaultMapping(
  db: Db,
  organizationId: string,
  id: string,
  input: ConnectionDefaultMappingInput,
): Promise<ConnectionDefaultMappingResult> {
  const problems = mappingProblems(input.schema);
  if (problems.length > 0) throw new UnprocessableEntityError("The mapping is invalid.", problems);
  return inTransaction(db, async (trx) => {
    const connection = await mustFindConnection(trx, organizationId, id);
    const current = await mustFindMapping(trx, connection.id, true);
    const conflicts = expectationConflicts(input, current, connection);
    if (conflicts.length > 0) throw new ConflictError("The mapping changed or is not this connection's.", conflicts);
    const catalog = await findFieldCatalog(trx, connection.id);
    const stored = await storeMappingVersion(trx, connection.id, {
      id: uuidv7(),
      version: current.version + 1,
      name: input.name ?? current.name,
      schema: input.schema,
      catalog_version: catalog?.catalog_version ?? null,
    });
    return toResult(stored, connection);
  });
}

/** What the client said it expects of the current mapping and is not so. */
function expectationConflicts(input: ConnectionDefaultMappingInput, current: DefaultMappingRow, connection: ConnectionRow): ErrorDetail[] {
  const conflicts: ErrorDetail[] = [];
  if (input.expected_version !== undefined && input.expected_version !== current.version) {
    conflicts.push({ param: "expected_version", msg: `is not the current version (${current.version})` });
  }
  if (input.workspace_id !== undefined && input.workspace_id.toLowerCase() !== connection.workspace_id) {
    conflicts.push({ param: "workspace_id", msg: "is not the connection's workspace" });
  }
  if (input.mapping_id !== undefined && input.mapping_id.toLowerCase() !== current.mapping_id) {
    conflicts.push({ param: "mapping_id", msg: "is not the connection's default mapping" });
  }
  return conflicts;
}

/** Every connection has one, made with it (and by migration 0013 for older ones). */
async function mustFindMapping(db: Db, connectionId: string, forUpdate = false): Promise<DefaultMappingRow> {
  const row = await findDefaultMapping(db, connectionId, { forUpdate });
  if (row === undefined) throw new Error(`connection ${connectionId} has no default mapping`);
  return row;
}

function toResult(row: DefaultMappingRow, connection: ConnectionRow): ConnectionDefaultMappingResult {
  return {
    status: row.status,
    mapping: {
      id: row.id,
      mapping_id: row.mapping_id,
      version: row.version,
      workspace_id: connection.workspace_id,
      connection_id: connection.id,
      integration_type: connection.integration_type as IntegrationType,
      name: row.name,
      schema: row.schema as MappingSchema,
      ...optionalField("catalog_version", row.catalog_version),
      created_by: row.created_by,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    },
  };
}
