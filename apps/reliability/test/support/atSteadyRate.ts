import { sleep } from "@switchyard/testing";

export interface SteadyRateOptions {
  /** When call 0 is due. Default: now, by `clock`. */
  readonly start?: number;
  /** The clock due times are read from. Default `Date.now`. */
  readonly clock?: () => number;
}

/**
 * Calls `send(n, dueAt)` `perSecond` times a second for `ms`, each when it is due whatever happened to earlier
 * ones (an open loop: a slow server does not slow the offered load); answers what every call resolved to, in
 * order, once all have.
 */
export async function atSteadyRate<T>(
  perSecond: number,
  ms: number,
  send: (n: number, dueAt: number) => Promise<T>,
  options: SteadyRateOptions = {},
): Promise<T[]> {
  const clock = options.clock ?? Date.now;
  const start = options.start ?? clock();
  const total = Math.floor((ms / 1000) * perSecond);
  const pending: Promise<T>[] = [];
  for (let n = 0; n < total; n += 1) {
    const dueAt = start + (n * 1000) / perSecond;
    // The pace is the load under test: each call waits for its time, not for a condition. A call at most 1 ms
    // early, or late, goes at once (a timer is no finer than that), so that the offered rate holds.
    const wait = dueAt - clock();
    if (wait > 1) await sleep(wait);
    pending.push(send(n, dueAt));
  }
  return Promise.all(pending);
}
