import { isDatabaseUnavailable } from "@switchyard/db";
import { type InsertedEvents, insertEvents, type NewEventRow, type StatementRunner } from "./events.repository.js";

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

interface Pending {
  readonly rows: readonly NewEventRow[];
  readonly queuedAt: number;
  readonly resolve: (result: InsertedEvents) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: while `maxInFlight` ingest statements run, the batches of newly arrived requests wait and
 * are then written together, in one statement. At low load every batch goes alone at once; under load
 * statements and commits (each a flush to disk) are shared, which is where most of the database's time
 * per event goes. Each request still learns of its own rows only after their commit.
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
export function createEventWriter(pool: StatementRunner, options: EventWriterOptions): EventWriter {
  const queue: Pending[] = [];
  let inFlight = 0;

  const pump = () => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const group: Pending[] = [];
      let size = 0;
      while (queue.length > 0 && (group.length === 0 || size + (queue[0]?.rows.length ?? 0) <= options.maxRows)) {
        const next = queue.shift() as Pending;
        group.push(next);
        size += next.rows.length;
      }
      inFlight += 1;
      void writeGroup(group).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  };

  const writeGroup = async (group: readonly Pending[]) => {
    try {
      const result = await insertEvents(pool, withoutRepeatedKeys(group), options.idempotencyTtlSeconds);
      if (result.routed) options.onRouted();
      for (const pending of group) pending.resolve(result);
    } catch (error) {
      if (group.length === 1 || isDatabaseUnavailable(error)) {
        for (const pending of group) pending.reject(error);
        return;
      }
      await Promise.all(
        group.map((pending) =>
          insertEvents(pool, pending.rows, options.idempotencyTtlSeconds).then((result) => {
            if (result.routed) options.onRouted();
            pending.resolve(result);
          }, pending.reject),
        ),
      );
    }
  };

  return {
    write: (rows, signal) =>
      new Promise<InsertedEvents>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const pending: Pending = { rows, queuedAt: performance.now(), resolve, reject };
        queue.push(pending);
        signal?.addEventListener(
          "abort",
          () => {
            const index = queue.indexOf(pending);
            if (index === -1) return; // Already in a statement: it completes.
            queue.splice(index, 1);
            reject(signal.reason);
          },
          { once: true },
        );
        pump();
      }),
    queueWaitMs: () => (queue[0] === undefined ? 0 : performance.now() - queue[0].queuedAt),
  };
}

/** The group's rows, each idempotency key (per workspace) kept only at its first use. */
function withoutRepeatedKeys(group: readonly Pending[]): NewEventRow[] {
  if (group.length === 1) return [...(group[0]?.rows ?? [])];
  const seen = new Set<string>();
  const rows: NewEventRow[] = [];
  for (const pending of group) {
    for (const row of pending.rows) {
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
