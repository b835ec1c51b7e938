import { randomUUID } from "node:crypto";

/**
 * A UUIDv7: time-ordered, so rows insert at the right edge of their primary-key index and ids sort by
 * creation time. Built from `randomUUID()` (which draws from a pooled random buffer) with its first
 * 48 bits replaced by the millisecond timestamp.
 */
export function uuidv7(now: number = Date.now()): string {
  const time = now.toString(16).padStart(12, "0");
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
