import { createHash, randomUUID } from "node:crypto";

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

/**
 * A UUIDv5 (RFC 9562): the SHA-1 of `namespace` (a UUID) and `name`, so the same pair always gives the same id.
 * For records that are derived rather than stored with an id of their own (a workspace's catalog entries).
 */
export function uuidv5(namespace: string, name: string): string {
  const hash = createHash("sha1")
    .update(Buffer.from(namespace.replaceAll("-", ""), "hex"))
    .update(name, "utf8")
    .digest();
  hash[6] = ((hash[6] as number) & 0x0f) | 0x50;
  hash[8] = ((hash[8] as number) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
