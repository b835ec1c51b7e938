import { type ColumnType, sql } from "kysely";
import type { Db } from "../db/database.js";

export interface EventsTable {
  id: string;
  workspace_id: string;
  event: string;
  resource: string | null;
  resource_id: string | null;
  payload: unknown;
  status: string;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
}

export interface NewEventRow {
  readonly id: string;
  readonly workspace_id: string;
  readonly event: string;
  readonly resource: string | null;
  readonly resource_id: string | null;
  /** The payload, already serialized (validation measured it); spliced into the batch unchanged. */
  readonly payloadJson: string;
  readonly created_by: string;
}

/**
 * Inserts a batch of events in one statement, passing every row in a single jsonb parameter (the
 * cheapest durable path measured here). One statement is atomic: all rows are stored or none.
 * Returns the shared creation time (`now()` is fixed for the statement).
 */
export async function insertEvents(db: Db, rows: readonly NewEventRow[]): Promise<Date> {
  const batch = `[${rows.map(serializeRow).join(",")}]`;
  const result = await sql<{ created_at: Date }>`
    with inserted as (
      insert into events (id, workspace_id, event, resource, resource_id, payload, status, created_by)
      select r.id, r.workspace_id, r.event, r.resource, r.resource_id, r.payload, 'pending', r.created_by
      from jsonb_to_recordset(${batch}::jsonb) as r(
        id uuid, workspace_id uuid, event text, resource text, resource_id text, payload jsonb, created_by text)
      returning 1
    )
    select now() as created_at from inserted limit 1`.execute(db);
  const row = result.rows[0];
  if (row === undefined) throw new Error(`insertEvents stored none of ${rows.length} rows`);
  return row.created_at;
}

function serializeRow(row: NewEventRow): string {
  return (
    `{"id":"${row.id}","workspace_id":"${row.workspace_id}","event":${JSON.stringify(row.event)},` +
    `"resource":${JSON.stringify(row.resource)},"resource_id":${JSON.stringify(row.resource_id)},` +
    `"created_by":${JSON.stringify(row.created_by)},"payload":${row.payloadJson}}`
  );
}

export async function countEvents(db: Db, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom("events")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("workspace_id", "=", workspaceId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
