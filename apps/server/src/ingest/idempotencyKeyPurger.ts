import type { Db } from "@switchyard/db";
import type { Logger } from "../logger.js";
import { purgeExpiredIdempotencyKeys } from "./idempotencyKeys.repository.js";

const batchSize = 5000;

/**
 * Deletes expired idempotency keys every `intervalMs`, in batches so that no statement holds many locks.
 * Expired keys are already ignored by ingestion; this only reclaims space. Returns a stop function.
 */
export function startIdempotencyKeyPurger(db: Db, log: Logger, intervalMs: number): () => void {
  let running = false;
  const purge = async () => {
    if (running) return;
    running = true;
    try {
      let total = 0;
      for (let deleted = batchSize; deleted === batchSize; ) {
        deleted = await purgeExpiredIdempotencyKeys(db, batchSize);
        total += deleted;
      }
      if (total > 0) log.info({ deleted: total }, "expired idempotency keys purged");
    } catch (error) {
      log.warn({ err: error }, "purging expired idempotency keys failed; will retry");
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void purge(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
