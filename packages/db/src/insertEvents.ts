import type { EventStatus } from "./schema.js";
import { preparedStatement, runStatement, type StatementRunner } from "./statements.js";

export interface NewEventRow {
  readonly id: string;
  readonly workspace_id: string;
  readonly event: string;
  readonly resource: string | null;
  readonly resource_id: string | null;
  /** The payload, already serialized (validation measured it); spliced into the batch unchanged. */
  readonly payloadJson: string;
  readonly created_by: string;
  /** With a key, the row is stored only if it claims the key (see insertEvents). */
  readonly idempotency_key?: string;
}

export interface InsertedEvents {
  /** The shared creation time of the stored rows (`now()` is fixed for the statement). */
  readonly createdAt: Date;
  /**
   * The rows stored, with the status routing gave them; a keyed row whose key was already taken is not
   * among them.
   */
  readonly stored: ReadonlyMap<string, EventStatus>;
  /** Whether the statement wrote routing work (an outbox row): the caller then wakes the worker (`queueRouting`). */
  readonly routed: boolean;
}

/**
 * Stores a batch of events in one statement (so one commit), every row passed in a single jsonb parameter
 * (the cheapest durable path measured here), with the routing work they need:
 *
 * - A row with an idempotency key is stored only if it claims the key: a new key, or one whose retention
 *   expired. Concurrent claims of a key serialize on the primary key of `idempotency_keys`, so exactly one
 *   statement stores the event; the others store nothing for that row, and the caller reads what the key
 *   names with a new statement (this one's snapshot cannot see a concurrent commit). Keys must be unique
 *   within one call.
 * - The stored rows (only those) are counted into the workspace catalog (`workspace_catalog`): per workspace,
 *   the events of each name and of each resource, with when they were first and last seen.
 * - The active rules of the batch's workspaces and event names are read in this statement's snapshot (a rule
 *   created after the event never applies to it). Each event gets `total_rules`, the number that match it.
 *   An event that matches none is `completed` at once; the others are `pending`, and one row of the routing
 *   outbox (`route_outbox`), committed with them, names them and the rules. The worker's `route` task
 *   (`routeOutbox`) writes their deliveries (rule events) moments later, so an
 *   acknowledged event cannot lose its deliveries, while the ingest commit writes one small row per batch
 *   instead of a delivery row, with four index entries, per event, and no graphile-worker job (whose `add_job`
 *   and `NOTIFY` cost more than the row).
 */
export async function insertEvents(
  runner: StatementRunner,
  rows: readonly NewEventRow[],
  idempotencyTtlSeconds: number,
): Promise<InsertedEvents> {
  const batch = `[${rows.map(serializeRow).join(",")}]`;
  const lane = takeLane();
  try {
    const [row] = await runStatement<{ created_at: Date; stored: Array<[string, EventStatus]> | null; routed: boolean }>(
      runner,
      insertEventsStatement,
      [batch, idempotencyTtlSeconds, lane],
    );
    if (row === undefined) throw new Error("insertEvents: the statement returned no row");
    return { createdAt: row.created_at, stored: new Map(row.stored ?? []), routed: row.routed };
  } finally {
    lanesInUse[lane] = false;
  }
}

/**
 * The lanes of this process's ingest statements in flight: each runs in the lowest free one, which is the shard
 * of the workspace catalog's counters it adds to. Statements in flight at once then never update one counter row,
 * so none waits for another's commit (a row lock is held until then) however many batches of one event name
 * arrive together; a key has at most as many rows as the most statements ever in flight. Several server
 * processes on one database use the same lanes: still exact, they only wait for each other now and then.
 */
const lanesInUse: boolean[] = [];

function takeLane(): number {
  const free = lanesInUse.indexOf(false);
  const lane = free === -1 ? lanesInUse.length : free;
  lanesInUse[lane] = true;
  return lane;
}

const insertEventsStatement = preparedStatement("insert_events");

/** One row as the statement's jsonb array holds it; the payload, already serialized, is spliced in unchanged. */
function serializeRow(row: NewEventRow): string {
  const key = row.idempotency_key === undefined ? "" : `,"idempotency_key":${JSON.stringify(row.idempotency_key)}`;
  return (
    `{"id":"${row.id}","workspace_id":"${row.workspace_id}","event":${JSON.stringify(row.event)},` +
    `"resource":${JSON.stringify(row.resource)},"resource_id":${JSON.stringify(row.resource_id)},` +
    `"created_by":${JSON.stringify(row.created_by)}${key},"payload":${row.payloadJson}}`
  );
}
