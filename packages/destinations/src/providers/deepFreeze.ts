/** Freezes a plain-data value and everything in it, so a shared description or mapping cannot be changed by a caller. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
