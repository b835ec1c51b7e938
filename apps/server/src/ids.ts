import { randomUUID } from "node:crypto";

let lastMs = 0;
let sequence = 0;

/**
 * A UUIDv7 (RFC 9562): time-ordered, so rows insert at the right edge of their primary-key index and ids
 * sort by creation time; within one process ids are strictly increasing, because the 12 bits after the
 * timestamp count ids made in the same millisecond (method 1). The remaining 62 bits are random, taken
 * from `randomUUID()`, which draws from a pooled random buffer.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs += 1;
    sequence = 0;
  }
  const time = lastMs.toString(16).padStart(12, "0");
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${sequence.toString(16).padStart(3, "0")}-${random.slice(19)}`;
}
