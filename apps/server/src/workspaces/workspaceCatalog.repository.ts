import type { Db } from "@switchyard/db";
import { sql } from "kysely";

/** What the catalog holds of: event names, or resources. */
export type CatalogKind = "event" | "resource";

/** One key of a workspace's catalog, its shards added up. */
export interface CatalogEntryRow {
  readonly key: string;
  /** bigint: pg answers a string. */
  readonly event_count: string;
  readonly first_seen_at: Date;
  readonly last_seen_at: Date;
}

/**
 * One page of the workspace's keys of `kind`, in key order, past `afterKey`, with `limit + 1` rows (as
 * `fetchPage`). Each key's shards (the ingest statement's lanes) are added up here: a walk of the primary key,
 * `limit + 1` keys times their few shards, whatever the number of events.
 */
export async function listCatalogEntries(
  db: Db,
  workspaceId: string,
  kind: CatalogKind,
  window: { readonly limit: number; readonly afterKey?: string | undefined },
): Promise<CatalogEntryRow[]> {
  const ofKind = db
    .selectFrom("workspace_catalog")
    .select([
      "key",
      sql<string>`sum(event_count)`.as("event_count"),
      sql<Date>`min(first_seen_at)`.as("first_seen_at"),
      sql<Date>`max(last_seen_at)`.as("last_seen_at"),
    ])
    .where("workspace_id", "=", workspaceId)
    .where("kind", "=", kind);
  const past = window.afterKey === undefined ? ofKind : ofKind.where("key", ">", window.afterKey);
  return past
    .groupBy("key")
    .orderBy("key")
    .limit(window.limit + 1)
    .execute();
}
