import { performance } from "node:perf_hooks";

/** The time of one attempt that makes several provider calls: each call gets what is left of `timeoutMs`. */
export interface AttemptBudget {
  /** What is left for the next call, at least 1 ms (a call with no time left times out at once). */
  remainingMs(): number;
  /** Since the attempt started: the attempt's `durationMs`. */
  elapsedMs(): number;
}

export function attemptBudget(timeoutMs: number): AttemptBudget {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  return {
    remainingMs: () => Math.max(1, Math.floor(timeoutMs - elapsed())),
    elapsedMs: () => Math.round(elapsed()),
  };
}
