/** An object that is not an array or null: a JSON object, as config and provider answers hold them. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
