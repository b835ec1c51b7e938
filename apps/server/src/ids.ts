import { randomUUID } from "node:crypto";

/** `hex3[n]`: n as 3 lower-case hex digits, for the 12-bit sequence. */
const hex3 = Array.from({ length: 0x1000 }, (_, n) => n.toString(16).padStart(3, "0"));

let lastMs = 0;
let sequence = 0;
/** The id's first 15 characters for `lastMs`: its 48-bit timestamp, dashed, and the version digit. */
let prefix = timePrefix(0);

/**
 * A UUIDv7 (RFC 9562): time-ordered, so rows insert at the right edge of their primary-key index and ids
 * sort by creation time; within one process ids are strictly increasing, because the 12 bits after the
 * timestamp count ids made in the same millisecond (method 1). The remaining 62 bits are random, taken
 * from `randomUUID()` (its variant bits included), which draws from a pooled random buffer. Ingestion
 * makes one per event: the timestamp part is formatted once per millisecond, not once per id.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
    prefix = timePrefix(now);
  } else if (++sequence > 0xfff) {
    lastMs += 1;
    sequence = 0;
    prefix = timePrefix(lastMs);
  }
  // randomUUID() is "xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx": from index 18 on, "-Vxxx-xxxxxxxxxxxx".
  return prefix + (hex3[sequence] as string) + randomUUID().slice(18);
}

function timePrefix(ms: number): string {
  const time = ms.toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
}
