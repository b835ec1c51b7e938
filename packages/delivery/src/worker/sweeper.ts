import { requeueExpiredLeases, requeueStaleDeliveries, type StatementRunner, wakeStaleRouting } from "@switchyard/db";
import type { DeliveryWorkerConfig } from "./config.js";
import type { WorkerLog } from "./workerLog.js";

/** Deliveries one sweep statement takes at most. */
const sweepLimit = 500;

/**
 * Every `leaseSweepMs`, puts back in the queue what a dead worker left: deliveries whose attempt's lease ran out,
 * due deliveries without a job, and outbox rows whose wake was lost. One sweep at a time; a failed sweep is
 * logged and the next one tries again. Answers a function that stops it.
 */
export function startSweeper(
  runner: StatementRunner,
  config: Pick<DeliveryWorkerConfig, "leaseSweepMs" | "staleAfterMs">,
  log: WorkerLog,
): () => void {
  let sweeping = false;
  const sweepOnce = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await sweep(runner, config, log);
    } catch (error) {
      log.warn({ err: error }, "lease sweep failed; will retry");
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(() => void sweepOnce(), config.leaseSweepMs);
  timer.unref();
  return () => clearInterval(timer);
}

async function sweep(runner: StatementRunner, config: Pick<DeliveryWorkerConfig, "leaseSweepMs" | "staleAfterMs">, log: WorkerLog) {
  const requeued = await requeueExpiredLeases(runner, sweepLimit);
  if (requeued > 0) log.warn({ requeued }, "requeued deliveries whose attempt was lost");
  const stale = await requeueStaleDeliveries(runner, config.staleAfterMs, sweepLimit);
  if (stale > 0) log.warn({ stale }, "gave a job to due deliveries that had none");
  if (await wakeStaleRouting(runner, config.leaseSweepMs, config.staleAfterMs)) {
    log.warn({}, "woke routing for outbox rows left waiting (a lost wake, or a route job that died with its worker)");
  }
}
