import { createWorkerPool, parseDeliveryWorkerConfig, startDeliveryWorker } from "@switchyard/delivery";
import type { NeverReachable } from "@switchyard/destinations";
import type { SecretBox } from "@switchyard/secret-box";
import type { Logger } from "../logger.js";

/**
 * The delivery worker inside the server process, the single-machine default (`SWITCHYARD_RUN_WORKER`); its
 * own pool, since graphile-worker holds a connection for LISTEN and one per running job. `stop` lets running
 * attempts finish and be recorded, then closes that pool.
 */
export async function startWorkerInProcess(
  databaseUrl: string,
  secretBox: SecretBox,
  neverReachable: NeverReachable,
  log: Logger,
): Promise<{ stop: () => Promise<void> }> {
  const workerConfig = parseDeliveryWorkerConfig();
  const pool = createWorkerPool(databaseUrl, workerConfig.concurrency, (error) =>
    log.warn({ err: error }, "worker database connection failed"),
  );
  const worker = await startDeliveryWorker({ pool, secretBox, config: workerConfig, log, neverReachable });
  log.info(
    { concurrency: workerConfig.concurrency, deliveryTimeoutMs: workerConfig.deliveryTimeoutMs },
    "delivery worker running in-process",
  );
  return {
    stop: async () => {
      await worker.stop();
      await pool.end();
    },
  };
}
