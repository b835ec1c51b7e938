import type { NeverReachable } from "@switchyard/destinations";
import type { SecretBox } from "@switchyard/secret-box";
import { Logger, type Runner, type RunnerOptions, run } from "graphile-worker";
import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import { createAttemptRecorder } from "./attemptRecorder.js";
import { createAttemptRunner } from "./attemptRunner.js";
import type { DeliveryWorkerConfig } from "./config.js";
import { deliverBatch, drainConnection } from "./deliverBatch.js";
import { deliverTask, requeueExpiredLeases, requeueStaleDeliveries } from "./deliveryStore.js";
import { createDestinations, type Destinations } from "./destinations.js";
import { queueRouting, routeOutbox, routeTask, wakeStaleRouting } from "./routeOutbox.js";

export interface WorkerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface DeliveryWorkerDeps {
  /** A pool for the worker alone (graphile-worker holds one connection for LISTEN, plus one per running job). */
  readonly pool: pg.Pool;
  readonly secretBox: SecretBox;
  readonly config: DeliveryWorkerConfig;
  readonly log: WorkerLog;
  /** Default: the plugin registry under `config.destinationAllowList`, never reaching `neverReachable`'s endpoints. */
  readonly destinations?: Destinations;
  /** Switchyard's own endpoints (`createOwnEndpoints`): refused as destinations, allowed or not. */
  readonly neverReachable?: NeverReachable;
}

export interface DeliveryWorker {
  /** Stops taking jobs, lets running attempts finish, and stops the lease sweeper. The pool stays open. */
  readonly stop: () => Promise<void>;
}

/** The longest wait between attempts to start a new runner (PostgreSQL down): recovery follows within this. */
const maxRestartDelayMs = 5_000;
/** Outbox rows (ingested batches, often grouped from several requests) one routing statement takes. */
const outboxBatchesPerStatement = 8;
/** How long one `route` job drains a backlog before it queues the next one and completes. */
const maxRouteJobMs = 1_000;

/**
 * Runs graphile-worker with the `route` and `deliver` tasks and a sweeper that requeues lost attempts and
 * wakes routing for outbox rows left waiting. The schemas (ours and graphile-worker's) must already be
 * migrated: the server does that at start.
 */
export async function startDeliveryWorker(deps: DeliveryWorkerDeps): Promise<DeliveryWorker> {
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: deps.pool }) });
  const destinations = deps.destinations ?? createDestinations(deps.config.destinationAllowList, deps.neverReachable);
  const attempts = createAttemptRunner(deps.config.maxInFlight);
  // Two statements at once leave the pool's other connections to jobs, claims and the sweeper.
  const recorder = createAttemptRecorder(deps.pool, { maxInFlight: 2, maxBatch: 256 });
  const batchDeps = { db, secretBox: deps.secretBox, destinations, config: deps.config, log: deps.log, attempts, recorder };
  const runnerOptions: RunnerOptions = {
    pgPool: deps.pool,
    // A job's end is recorded through graphile-worker's batcher (0 ms: the jobs ending in the same turn of the
    // event loop share a statement). Without it, graphile-worker 0.18 leaves the promise that records a job's
    // end unhandled, and the database failing at that moment (a restart) crashed the process with an
    // unhandled rejection. With it, the failure stops the runner instead, and a new one is started (below).
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    concurrency: deps.config.concurrency,
    pollInterval: deps.config.pollIntervalMs,
    noHandleSignals: true,
    logger: graphileLogger(deps.log),
    taskList: {
      [routeTask]: async () => {
        // Drains the routing outbox, a few batches a statement, and delivers what it routed itself: the job
        // completes once its deliveries are claimed or deferred with a job of their own. A worker that dies
        // before a statement commits leaves its outbox rows for the next run (woken by the sweep, below); one that
        // dies after it leaves pending deliveries without a job, and `requeueStaleDeliveries` gives them one.
        const started = performance.now();
        for (;;) {
          const { batches, pending } = await routeOutbox(deps.pool, outboxBatchesPerStatement);
          if (pending.length > 0) await deliverBatch(batchDeps, pending, 0);
          if (batches < outboxBatchesPerStatement) return;
          // A long backlog: hand over to a new job now and then, so that this one's slot and lock are not held for long.
          if (performance.now() - started > maxRouteJobMs) {
            await queueRouting(deps.pool);
            return;
          }
        }
      },
      [deliverTask]: async (payload) => {
        const { rule_events: ids, connection, deferrals } = payload as { rule_events?: unknown; connection?: unknown; deferrals?: unknown };
        const waited = typeof deferrals === "number" ? deferrals : 0;
        // A connection's drain job (its deliveries deferred at its cap), or a list of deliveries (retries, replays, sweeps).
        if (typeof connection === "string") {
          await drainConnection(batchDeps, connection, waited);
          return;
        }
        if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) {
          deps.log.error({ payload }, "deliver job without a rule_events list or a connection; dropped");
          return;
        }
        await deliverBatch(batchDeps, ids, waited);
      },
    },
  };

  // graphile-worker stops its whole runner when one of its workers cannot record a job's end (say the
  // database went away as a job finished: "one of the workers exited prematurely"). The process would then
  // stay up and run nothing. Start a new runner instead, after a wait that doubles while starts fail (up to
  // 5 s). The job whose end was not recorded stays locked by the old runner; as for a worker that died, the
  // sweeper below wakes routing past it, or gives its deliveries a job, after `staleAfterMs`.
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let runner: Runner = await run(runnerOptions);
  const restartAfter = (delayMs: number) => {
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      run(runnerOptions).then(
        (started) => {
          runner = started;
          deps.log.warn({}, "graphile-worker runner started again");
          watch(started);
        },
        (error: unknown) => {
          deps.log.error(
            { err: error, retryInMs: Math.min(delayMs * 2, maxRestartDelayMs) },
            "could not start the graphile-worker runner again",
          );
          restartAfter(Math.min(delayMs * 2, maxRestartDelayMs));
        },
      );
    }, delayMs);
  };
  const watch = (watched: Runner) => {
    const ended = (error?: unknown) => {
      if (stopping || watched !== runner) return;
      deps.log.error({ err: error }, "graphile-worker runner stopped by itself; starting a new one");
      restartAfter(1_000);
    };
    watched.promise.then(
      () => ended(),
      (error: unknown) => ended(error),
    );
  };
  watch(runner);

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const requeued = await requeueExpiredLeases(db, 500);
      if (requeued > 0) deps.log.warn({ requeued }, "requeued deliveries whose attempt was lost");
      const stale = await requeueStaleDeliveries(db, deps.config.staleAfterMs, 500);
      if (stale > 0) deps.log.warn({ stale }, "gave a job to due deliveries that had none");
      if (await wakeStaleRouting(deps.pool, deps.config.leaseSweepMs, deps.config.staleAfterMs)) {
        deps.log.warn({}, "woke routing for outbox rows left waiting (a lost wake, or a route job that died with its worker)");
      }
    } catch (error) {
      deps.log.warn({ err: error }, "lease sweep failed; will retry");
    } finally {
      sweeping = false;
    }
  };
  const sweeper = setInterval(() => void sweep(), deps.config.leaseSweepMs);
  sweeper.unref();

  return {
    stop: async () => {
      stopping = true;
      clearInterval(sweeper);
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      await runner.stop();
      // Attempts already started finish and are recorded (each is bounded by the delivery timeout).
      await attempts.drain();
    },
  };
}

/**
 * graphile-worker's own log lines, through ours; its debug chatter is dropped, and so are job payloads (a
 * deliver job names up to hundreds of deliveries: one line per job would otherwise carry them all).
 */
function graphileLogger(log: WorkerLog): Logger {
  return new Logger((scope) => (level, message, meta) => {
    const { job, ...rest } = { ...scope, ...meta } as { job?: { id?: unknown; task_id?: unknown; attempts?: unknown } };
    const fields = {
      component: "graphile-worker",
      ...rest,
      ...(job === undefined ? {} : { job: { id: job.id, task_id: job.task_id, attempts: job.attempts } }),
    };
    if (level === "error") log.error(fields, message);
    else if (level === "warning") log.warn(fields, message);
    else if (level === "info") log.info(fields, message);
  });
}
