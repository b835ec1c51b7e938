export interface WaitForOptions<T> {
  /** What is awaited, for the failure message ("event 42 to settle"). */
  readonly what: string;
  /** Holds for the value that ends the wait. Default: any truthy value. */
  readonly until?: (value: T) => boolean;
  /** Fails after this long. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Time between two probes. Default 25 ms. */
  readonly intervalMs?: number;
}

/**
 * Calls `probe` until its value satisfies `until` (by default: is truthy) and answers that value; fails after
 * `timeoutMs` naming `what` and the last value seen. The probe always runs at least once, and once more at the
 * deadline, so a slow machine fails only when the condition really did not hold in time.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: WaitForOptions<T> & { readonly until: (value: T) => boolean },
): Promise<T>;
export async function waitFor<T>(probe: () => T | Promise<T>, options: Omit<WaitForOptions<T>, "until">): Promise<NonNullable<T>>;
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitForOptions<T>): Promise<T> {
  const { what, until = (value: T) => Boolean(value), timeoutMs = 10_000, intervalMs = 25 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (until(value)) return value;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(value)}`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Lets `ms` pass. Only for when time itself is what a test exercises (a pace of requests, an outage lasting
 * so long, a wait during which nothing may happen): to wait for something to happen, use `waitFor`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
