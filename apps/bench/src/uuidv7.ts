import { randomUUID } from "node:crypto";

let lastMs = 0;
let sequence = 0;

/**
 * Time-ordered ids like the server's (`apps/server/src/ids.ts`), so that the raw path inserts at the right
 * edge of the primary-key index exactly as Switchyard does; random v4 ids would scatter the index writes
 * and make the raw limit look lower than it is.
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
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${sequence.toString(16).padStart(3, "0")}-${randomUUID().slice(19)}`;
}
