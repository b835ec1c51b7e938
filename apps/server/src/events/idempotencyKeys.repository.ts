import { type ColumnType, sql } from "kysely";
import type { Db } from "../db/database.js";

export interface IdempotencyKeysTable {
  workspace_id: string;
  key: string;
  event_id: string;
  /** SHA-256 of the event as first sent (see ingestEvents.ts `requestHash`). */
  request_hash: Buffer;
  expires_at: ColumnType<Date, Date, Date>;
}

/** The event an unexpired key already names, with the hash of the request that first used it. */
export interface RememberedEvent {
  workspace_id: string;
  key: string;
  request_hash: Buffer;
  id: string;
  event: string;
  resource: string | null;
  resource_id: string | null;
  status: string;
  created_by: string;
  created_at: Date;
}

/** Looks up the events that these (workspace, key) pairs already name. */
export async function findRememberedEvents(db: Db, keys: ReadonlyArray<{ workspaceId: string; key: string }>): Promise<RememberedEvent[]> {
  if (keys.length === 0) return [];
  const result = await sql<RememberedEvent>`
    select k.workspace_id, k.key, k.request_hash, e.id, e.event, e.resource, e.resource_id, e.status, e.created_by, e.created_at
    from unnest(${keys.map((k) => k.workspaceId)}::uuid[], ${keys.map((k) => k.key)}::text[]) as wanted(workspace_id, key)
    join idempotency_keys k on k.workspace_id = wanted.workspace_id and k.key = wanted.key
    join events e on e.id = k.event_id`.execute(db);
  return result.rows;
}

/** Deletes up to `limit` expired keys; returns how many went. Call repeatedly until it returns less than `limit`. */
export async function purgeExpiredIdempotencyKeys(db: Db, limit: number): Promise<number> {
  const result = await sql`
    delete from idempotency_keys
    where ctid in (select ctid from idempotency_keys where expires_at <= now() limit ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}
