/**
 * The wait before each attempt, the first immediate: 8 attempts over about 28 hours.
 * `retrySchedule[n]` is the wait after attempt n (1-based) failed, before attempt n + 1.
 */
export const retrySchedule: readonly number[] = Object.freeze([
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
]);

export const maxAttempts = retrySchedule.length;

/** After a 429 or a timeout, never sooner than this. */
export const slowDownMs = 60_000;

/** ±20 %. */
export const jitterRatio = 0.2;

export interface BackoffInput {
  /** The attempt that just failed, 1-based within the current schedule. */
  readonly attempt: number;
  /** The answer's Retry-After, in ms, if it had one. */
  readonly retryAfterMs?: number | undefined;
  /** The answer asked us to slow down (429) or did not come in time. */
  readonly slowDown: boolean;
  /** Multiplies every duration (1 in production; tests compress the schedule). */
  readonly scale: number;
  /** A number in [0, 1). */
  readonly random: number;
}

/**
 * The wait before the next attempt, or undefined when the schedule is exhausted. The step comes from the
 * schedule with ±20 % jitter; a Retry-After is honoured, but only between one and two times the step;
 * after a 429 or timeout the wait is at least a minute.
 */
export function delayBeforeNextAttempt(input: BackoffInput): number | undefined {
  if (input.attempt >= maxAttempts) return undefined;
  const step = (retrySchedule[input.attempt] ?? 0) * input.scale;
  let delay: number;
  if (input.retryAfterMs !== undefined) {
    delay = Math.min(Math.max(input.retryAfterMs * input.scale, step), 2 * step);
  } else {
    delay = step * (1 - jitterRatio + 2 * jitterRatio * input.random);
  }
  if (input.slowDown) delay = Math.max(delay, slowDownMs * input.scale);
  return Math.round(delay);
}
