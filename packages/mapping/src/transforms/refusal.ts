/**
 * What a transform returns instead of a value when it cannot convert its input (returned, not thrown: a
 * refusal is data, and cheap). Reasons describe the input's kind, never its content.
 */
export class Refusal {
  constructor(readonly reason: string) {}
}

/** One transform, compiled: takes the value so far (`undefined`: absent), gives the next or a `Refusal`. */
export type TransformStep = (value: unknown) => unknown;

/** The kind of a value, for refusals: "a string", "an object", "null", ... */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return type === "object" || type === "undefined" ? `an ${type}` : `a ${type}`;
}

/** The refusal of a transform that takes only `expected` ("a string") and was given `value`. */
export function expected(what: string, value: unknown): Refusal {
  return new Refusal(`expects ${what}, got ${kindOf(value)}`);
}
