/**
 * Runs a process's delivery attempts in the background, at most `limit` at once, so that graphile-worker
 * job slots are never held by a slow destination; `drain` waits for the running ones (shutdown).
 */
export interface AttemptRunner {
  /** Slots free now; a job claims no more than this. None once draining has begun. */
  free(): number;
  /** Starts `attempt` (which must not reject) and keeps track of it until it settles. */
  run(attempt: () => Promise<void>): void;
  /** Takes no more attempts and waits for the running ones (shutdown). */
  drain(): Promise<void>;
}

export function createAttemptRunner(limit: number): AttemptRunner {
  const running = new Set<Promise<void>>();
  let draining = false;
  return {
    free: () => (draining ? 0 : Math.max(0, limit - running.size)),
    run(attempt) {
      const settled: Promise<void> = attempt().finally(() => running.delete(settled));
      running.add(settled);
    },
    async drain() {
      draining = true;
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
