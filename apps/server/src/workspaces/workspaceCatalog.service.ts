import type { WorkspaceCatalogEntry, WorkspaceCatalogList } from "@switchyard/client";
import type { Db } from "@switchyard/db";
import { BadRequestError } from "../http/errors.js";
import { uuidv5 } from "../ids.js";
import { type CatalogEntryRow, type CatalogKind, listCatalogEntries } from "./workspaceCatalog.repository.js";
import { mustFindWorkspace } from "./workspaces.service.js";

/**
 * One page of the event names (`kind: "event"`) or resources the organization's workspace has stored events
 * with, in key order (the order does not move while events arrive, unlike last-seen order, so paging is
 * stable); 404 for a workspace that is not the organization's.
 */
export async function listWorkspaceCatalog(
  db: Db,
  organizationId: string,
  workspaceId: string,
  kind: CatalogKind,
  page: { readonly limit: number; readonly cursor?: string | undefined },
): Promise<WorkspaceCatalogList> {
  const workspace = await mustFindWorkspace(db, organizationId, workspaceId);
  const rows = await listCatalogEntries(db, workspace.id, kind, { limit: page.limit, afterKey: decodeKeyCursor(page.cursor) });
  const kept = rows.slice(0, page.limit);
  const last = kept.at(-1);
  return {
    count: kept.length,
    limit: page.limit,
    next_cursor: rows.length > page.limit && last !== undefined ? encodeKeyCursor(last.key) : null,
    records: kept.map((row) => toCatalogEntry(workspace.id, kind, row)),
  };
}

/**
 * Meshes' `WorkspaceCatalogEntry` with Switchyard's counts. Its id is derived (UUIDv5 of the workspace, the kind
 * and the key), the label is the key, every entry is active, and its life is the life of its events: created
 * when the first was stored, updated when the last was. `description` and `created_by`, which Switchyard has
 * no value for, are left out.
 */
function toCatalogEntry(workspaceId: string, kind: CatalogKind, row: CatalogEntryRow): WorkspaceCatalogEntry {
  const firstSeen = row.first_seen_at.toISOString();
  const lastSeen = row.last_seen_at.toISOString();
  return {
    id: uuidv5(workspaceId, `${kind}:${row.key}`),
    key: row.key,
    label: row.key,
    active: true,
    created_at: firstSeen,
    updated_at: lastSeen,
    event_count: Number(row.event_count),
    first_seen_at: firstSeen,
    last_seen_at: lastSeen,
  };
}

/** The cursor naming the last key of a page: base64url (the cursor characters Meshes' clients accept) of `k:<key>`. */
function encodeKeyCursor(key: string): string {
  return Buffer.from(`k:${key}`, "utf8").toString("base64url");
}

/** The key a cursor names; a 400 naming `cursor` for anything `encodeKeyCursor` did not make. */
function decodeKeyCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!text.startsWith("k:") || encodeKeyCursor(text.slice(2)) !== cursor) {
    throw new BadRequestError("The cursor is invalid.", [{ param: "cursor", msg: "is not a cursor this API returned" }]);
  }
  return text.slice(2);
}
