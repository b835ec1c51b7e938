import {
  createGroupCommit,
  type InsertedEvents,
  insertEvents,
  isDatabaseUnavailable,
  type NewEventRow,
  type StatementRunner,
} from "@switchyard/db";

/** Stores a request's event rows; see createEventWriter. */
export interface EventWriter {
  /** Rejects with `signal`'s reason, writing nothing, if it aborts while the rows still wait for their turn. */
  write(rows: readonly NewEventRow[], signal?: AbortSignal): Promise<InsertedEvents>;
  /** How long the oldest batch still waiting for its statement has waited, in ms; 0 when none waits. */
  queueWaitMs(): number;
}

export interface EventWriterOptions {
  readonly idempotencyTtlSeconds: number;
  /** Statements writing events at once (the rest of the pool stays free for other queries). */
  readonly maxInFlight: number;
  /** Most rows one statement carries; a request's batch is never split. */
  readonly maxRows: number;
  /** Called after each statement that committed routing work (`InsertedEvents.routed`): wakes the worker. */
  readonly onRouted: () => void;
}

/**
 * Ingestion's group commit (`createGroupCommit`): the batches of concurrent requests are written together, in
 * one ingest statement (`insertEvents`), each request still answered only after its rows' commit.
 *
 * A repeat of an idempotency key already in the group is left out of the statement: its request then
 * finds the key taken and reads what it names, as it would had it come a moment later. If a group's
 * statement fails for a reason other than the database being unavailable (something PostgreSQL refuses
 * in one request's rows), each request is written alone, so that only its own request fails.
 *
 * A batch whose request was answered while it waited (the deadline's 503) leaves the queue unwritten: under
 * overload the queue then holds no more than a timeout's worth of requests, the statements serve requests
 * that are still waiting, and a 503 means "not stored" unless the batch's statement had already begun.
 */
export function createEventWriter(runner: StatementRunner, options: EventWriterOptions): EventWriter {
  const group = createGroupCommit<readonly NewEventRow[], InsertedEvents>({
    maxInFlight: options.maxInFlight,
    maxWeight: options.maxRows,
    weight: (rows) => rows.length,
    commit: async (batches) => {
      const result = await insertEvents(runner, withoutRepeatedKeys(batches), options.idempotencyTtlSeconds);
      if (result.routed) options.onRouted();
      return result;
    },
    retryAlone: (error) => !isDatabaseUnavailable(error),
  });
  return { write: (rows, signal) => group.submit(rows, signal), queueWaitMs: () => group.oldestWaitMs() };
}

/** The batches' rows, each idempotency key (per workspace) kept only at its first use. */
function withoutRepeatedKeys(batches: readonly (readonly NewEventRow[])[]): NewEventRow[] {
  if (batches.length === 1) return [...(batches[0] ?? [])];
  const seen = new Set<string>();
  const rows: NewEventRow[] = [];
  for (const batch of batches) {
    for (const row of batch) {
      if (row.idempotency_key !== undefined) {
        const scoped = `${row.workspace_id}\n${row.idempotency_key}`;
        if (seen.has(scoped)) continue;
        seen.add(scoped);
      }
      rows.push(row);
    }
  }
  return rows;
}
