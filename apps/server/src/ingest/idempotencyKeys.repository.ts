import type { Db } from "@switchyard/db";
import { sql } from "kysely";

/** The event an unexpired key already names, and whether its payload equals the one sent again. */
export interface RememberedEvent {
  workspace_id: string;
  key: string;
  /** The stored payload and the one sent with the key again are the same JSON value (key order aside). */
  same_payload: boolean;
  id: string;
  event: string;
  resource: string | null;
  resource_id: string | null;
  status: string;
  created_by: string;
  created_at: Date;
}

/**
 * Looks up the events that these (workspace, key) pairs already name, comparing each stored payload with
 * the one sent again as jsonb values (so key order and spacing do not matter). Only repeats take this path.
 */
export async function findRememberedEvents(
  db: Db,
  keys: ReadonlyArray<{ workspaceId: string; key: string; payloadJson: string }>,
): Promise<RememberedEvent[]> {
  if (keys.length === 0) return [];
  const result = await sql<RememberedEvent>`
    select k.workspace_id, k.key, e.payload = wanted.payload::jsonb as same_payload,
      e.id, e.event, e.resource, e.resource_id, e.status, e.created_by, e.created_at
    from unnest(${keys.map((k) => k.workspaceId)}::uuid[], ${keys.map((k) => k.key)}::text[], ${keys.map((k) => k.payloadJson)}::text[])
      as wanted(workspace_id, key, payload)
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
