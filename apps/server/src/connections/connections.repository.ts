import type { ConnectionsTable, Db, InactiveReasonCode } from "@switchyard/db";
import type { Insertable, Selectable } from "kysely";
import { fetchPage, type PageWindow } from "../http/cursorPage.js";
import { liveOfOrganization } from "../workspaces/workspaces.repository.js";

export type ConnectionRow = Omit<Selectable<ConnectionsTable>, "failing_since" | "deleted_at">;

const columns = [
  "connections.id",
  "connections.workspace_id",
  "connections.integration_type",
  "connections.name",
  "connections.metadata",
  "connections.secrets_ciphertext",
  "connections.active",
  "connections.inactive_reason",
  "connections.inactive_reason_code",
  "connections.hidden",
  "connections.created_by",
  "connections.created_at",
  "connections.updated_at",
] as const;

/** A connection to store; its metadata is any JSON value, serialized here, and its secrets are already sealed. */
export type NewConnectionRow = Omit<Insertable<ConnectionsTable>, "metadata"> & { readonly metadata: unknown };

export async function insertConnection(db: Db, row: NewConnectionRow): Promise<ConnectionRow> {
  return db
    .insertInto("connections")
    .values({ ...row, metadata: JSON.stringify(row.metadata) })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** The organization's live (not deleted) connections; a connection is the organization's through its workspace. */
function liveConnections(db: Db, organizationId: string) {
  return db.selectFrom("connections").select(columns).where(liveOfOrganization(db, organizationId));
}

/** A live connection of the organization; `forUpdate` locks it (pass a transaction). */
export async function findConnection(
  db: Db,
  organizationId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ConnectionRow | undefined> {
  const query = liveConnections(db, organizationId).where("connections.id", "=", id);
  return (options.forUpdate ? query.forUpdate("connections") : query).executeTakeFirst();
}

/** One page of the organization's live connections in id (creation) order (`fetchPage`), of one workspace if given. */
export async function listConnections(
  db: Db,
  organizationId: string,
  filter: { readonly workspaceId?: string | undefined },
  page: PageWindow,
): Promise<ConnectionRow[]> {
  let query = liveConnections(db, organizationId);
  if (filter.workspaceId !== undefined) query = query.where("connections.workspace_id", "=", filter.workspaceId);
  return fetchPage(query, "connections.id", "asc", page);
}

export async function updateConnection(
  db: Db,
  id: string,
  changes: {
    name: string;
    metadata: unknown;
    secrets_ciphertext: string;
    active: boolean;
    inactive_reason: string | null;
    inactive_reason_code: InactiveReasonCode | null;
    hidden: boolean;
    clearFailureStreak: boolean;
  },
): Promise<ConnectionRow> {
  const { metadata, clearFailureStreak, ...rest } = changes;
  return db
    .updateTable("connections")
    .set({ ...rest, metadata: JSON.stringify(metadata), updated_at: new Date(), ...(clearFailureStreak ? { failing_since: null } : {}) })
    .where("id", "=", id)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export async function updateConnectionSecrets(db: Db, id: string, secretsCiphertext: string): Promise<void> {
  await db.updateTable("connections").set({ secrets_ciphertext: secretsCiphertext, updated_at: new Date() }).where("id", "=", id).execute();
}

/** Hides the connection; its deliveries' history keeps referring to it. */
export async function softDeleteConnection(db: Db, id: string): Promise<void> {
  await db.updateTable("connections").set({ deleted_at: new Date(), active: false, updated_at: new Date() }).where("id", "=", id).execute();
}

/**
 * Deactivates the live rules that route to the connection (a forced delete): they stop matching new events
 * and stay readable, inactive. Pass the transaction that deletes the connection.
 */
export async function deactivateRulesOfConnection(trx: Db, connectionId: string): Promise<void> {
  await trx
    .updateTable("rules")
    .set({ active: false, updated_at: new Date() })
    .where("connection_id", "=", connectionId)
    .where("active", "=", true)
    .where("deleted_at", "is", null)
    .execute();
}
