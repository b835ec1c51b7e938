import type { Database } from "@switchyard/db";
import type { NeverReachable } from "@switchyard/destinations";
import type { SecretBox } from "@switchyard/secret-box";
import type { RunnerOptions } from "graphile-worker";
import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import { createAttemptRecorder } from "./attemptRecorder.js";
import { createAttemptRunner } from "./attemptRunner.js";
import type { DeliveryWorkerConfig } from "./config.js";
import type { DeliverBatchDeps } from "./deliverBatch.js";
import { createDestinations, type Destinations } from "./destinations.js";
import { graphileLogger } from "./graphileLogger.js";
import { deliveryTasks } from "./runDeliveryTasks.js";
import { startSupervisedRunner } from "./supervisedRunner.js";
import { startSweeper } from "./sweeper.js";
import type { WorkerLog } from "./workerLog.js";

export type { WorkerLog } from "./workerLog.js";

export interface DeliveryWorkerDeps {
  /** A pool for the worker alone (graphile-worker holds one connection for LISTEN, plus one per running job). */
  readonly pool: pg.Pool;
  readonly secretBox: SecretBox;
  readonly config: DeliveryWorkerConfig;
  readonly log: WorkerLog;
  /**
   * Default: the plugin registry under `config.destinationAllowList`, never reaching `neverReachable`'s endpoints,
   * refreshing OAuth connections' tokens in this pool's database.
   */
  readonly destinations?: Destinations;
  /** Switchyard's own endpoints (`createOwnEndpoints`): refused as destinations, allowed or not. */
  readonly neverReachable?: NeverReachable;
}

export interface DeliveryWorker {
  /** Stops taking jobs, lets running attempts finish, and stops the lease sweeper. The pool stays open. */
  readonly stop: () => Promise<void>;
}

/**
 * Runs graphile-worker with the `route` and `deliver` tasks (`deliveryTasks`), restarted whenever it stops by
 * itself (`startSupervisedRunner`), and a sweeper that requeues what a dead worker left (`startSweeper`). The
 * schemas (ours and graphile-worker's) must already be migrated: the server does that at start.
 */
export async function startDeliveryWorker(deps: DeliveryWorkerDeps): Promise<DeliveryWorker> {
  const batchDeps = deliverBatchDeps(deps);
  const runner = await startSupervisedRunner(runnerOptions(deps, batchDeps), deps.log);
  const stopSweeper = startSweeper(deps.pool, deps.config, deps.log);
  return {
    stop: async () => {
      stopSweeper();
      await runner.stop();
      // Attempts already started finish and are recorded (each is bounded by the delivery timeout).
      await batchDeps.attempts.drain();
    },
  };
}

function deliverBatchDeps(deps: DeliveryWorkerDeps): DeliverBatchDeps {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: deps.pool }) });
  return {
    db,
    pool: deps.pool,
    secretBox: deps.secretBox,
    destinations:
      deps.destinations ??
      createDestinations(deps.config.destinationAllowList, deps.neverReachable, deps.config.providers, { db, secretBox: deps.secretBox }),
    config: deps.config,
    log: deps.log,
    attempts: createAttemptRunner(deps.config.maxInFlight),
    // Two statements at once leave the pool's other connections to jobs, claims and the sweeper.
    recorder: createAttemptRecorder(deps.pool, { maxInFlight: 2, maxBatch: 256 }),
  };
}

function runnerOptions(deps: DeliveryWorkerDeps, batchDeps: DeliverBatchDeps): RunnerOptions {
  return {
    pgPool: deps.pool,
    // A job's end is recorded through graphile-worker's batcher (0 ms: the jobs ending in the same turn of the
    // event loop share a statement). Without it, graphile-worker 0.18 leaves the promise that records a job's
    // end unhandled, and the database failing at that moment (a restart) crashed the process with an
    // unhandled rejection. With it, the failure stops the runner instead, and a new one is started.
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    concurrency: deps.config.concurrency,
    pollInterval: deps.config.pollIntervalMs,
    noHandleSignals: true,
    logger: graphileLogger(deps.log),
    taskList: deliveryTasks(batchDeps),
  };
}
