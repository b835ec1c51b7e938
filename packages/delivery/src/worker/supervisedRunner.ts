import { type Runner, type RunnerOptions, run } from "graphile-worker";
import type { WorkerLog } from "./workerLog.js";

/** The longest wait between attempts to start a new runner (PostgreSQL down): recovery follows within this. */
const maxRestartDelayMs = 5_000;

export interface SupervisedRunner {
  /** Stops the current runner and starts no other. */
  readonly stop: () => Promise<void>;
}

/**
 * Runs graphile-worker, and starts a new runner whenever one stops by itself. graphile-worker stops its whole
 * runner when one of its workers cannot record a job's end (say the database went away as a job finished: "one
 * of the workers exited prematurely"); the process would then stay up and run nothing. The new runner starts
 * after a wait that doubles while starts fail (up to 5 s). The job whose end was not recorded stays locked by
 * the old runner; as for a worker that died, the sweeper wakes routing past it, or gives its deliveries a job,
 * after `staleAfterMs`.
 */
export async function startSupervisedRunner(options: RunnerOptions, log: WorkerLog): Promise<SupervisedRunner> {
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let runner: Runner = await run(options);

  const restartAfter = (delayMs: number) => {
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      const nextDelayMs = Math.min(delayMs * 2, maxRestartDelayMs);
      run(options).then(
        (started) => {
          runner = started;
          log.warn({}, "graphile-worker runner started again");
          watch(started);
        },
        (error: unknown) => {
          log.error({ err: error, retryInMs: nextDelayMs }, "could not start the graphile-worker runner again");
          restartAfter(nextDelayMs);
        },
      );
    }, delayMs);
  };

  const watch = (watched: Runner) => {
    const ended = (error?: unknown) => {
      if (stopping || watched !== runner) return;
      log.error({ err: error }, "graphile-worker runner stopped by itself; starting a new one");
      restartAfter(1_000);
    };
    watched.promise.then(
      () => ended(),
      (error: unknown) => ended(error),
    );
  };
  watch(runner);

  return {
    stop: async () => {
      stopping = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      await runner.stop();
    },
  };
}
