import { queueRouting, type StatementRunner } from "@switchyard/db";

/** Wakes the delivery worker's `route` task after ingestion committed routing work; see createRoutingWake. */
export interface RoutingWake {
  /** Call after a commit that wrote an outbox row: a wake statement starts after this call. */
  wake(): void;
  /** Waits for the wake in progress, and sends the one still owed, if any; later calls to `wake` do nothing. */
  close(): Promise<void>;
}

export interface RoutingWakeOptions {
  /** The least time between the end of one wake statement and the start of the next. */
  readonly intervalMs: number;
  /** A wake that failed: the worker's sweep makes up for it (the outbox row waits until then). */
  readonly onError: (error: unknown) => void;
}

/**
 * Runs `queue` (the wake statement, `queueRouting`) after commits that wrote routing work, one statement at a
 * time and no more often than every `intervalMs` after the last one ended: under load one statement covers the
 * batches of many requests. A wake asked for while a statement runs, or within the interval after it, is owed,
 * never dropped: one more statement follows once the interval has passed. So every outbox row is followed by a
 * wake statement that starts after its commit, and so by a `route` job that runs after it.
 */
export function createRoutingWake(queue: () => Promise<void>, options: RoutingWakeOptions): RoutingWake {
  let busy = false;
  let owed = false;
  let closed = false;
  let statement: Promise<void> | undefined;
  let interval: NodeJS.Timeout | undefined;

  const send = () => {
    busy = true;
    owed = false;
    statement = queue()
      .catch(options.onError)
      .then(() => {
        statement = undefined;
        if (closed) return;
        interval = setTimeout(() => {
          interval = undefined;
          busy = false;
          if (owed) send();
        }, options.intervalMs);
      });
  };

  return {
    wake: () => {
      if (closed) return;
      if (busy) owed = true;
      else send();
    },
    close: async () => {
      closed = true;
      if (statement !== undefined) await statement;
      clearTimeout(interval);
      if (owed) {
        owed = false;
        await queue().catch(options.onError);
      }
    },
  };
}

/** The wake of a server: `queueRouting` on its pool, at most one statement every 5 ms, failures logged. */
export function createServerRoutingWake(pool: StatementRunner, log: { warn(fields: object, message: string): void }): RoutingWake {
  return createRoutingWake(() => queueRouting(pool), {
    intervalMs: 5,
    onError: (error) => log.warn({ err: error }, "could not wake the route task; the worker's sweep will"),
  });
}
