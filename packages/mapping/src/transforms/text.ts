import { expected, type TransformStep } from "./refusal.js";

/*
 * trim, lower, upper, substring: strings only (use to_string first for numbers and booleans). Absent values
 * and null are passed through by the caller, never seen here.
 */

/** Removes leading and trailing whitespace (Unicode white space and line terminators, as `String.trim`). */
export function trimStep(value: unknown): unknown {
  return typeof value === "string" ? value.trim() : expected("a string", value);
}

/** Lower case, locale-independent (Unicode default case mapping). */
export function lowerStep(value: unknown): unknown {
  return typeof value === "string" ? value.toLowerCase() : expected("a string", value);
}

/** Upper case, locale-independent; may lengthen a string ("ß" → "SS"). */
export function upperStep(value: unknown): unknown {
  return typeof value === "string" ? value.toUpperCase() : expected("a string", value);
}

const surrogate = /[\uD800-\uDFFF]/;

/**
 * The characters from `start` (0-based), `length` of them or to the end, counted in Unicode code points so
 * that no emoji is cut in half. A start past the end gives `""`. `start` and `length` are checked when the
 * mapping is compiled (integers, start ≥ 0, length ≥ 1).
 */
export function substringStep(start: number, length: number | undefined): TransformStep {
  const end = length === undefined ? undefined : start + length;
  return (value) => {
    if (typeof value !== "string") return expected("a string", value);
    if (!surrogate.test(value)) return value.slice(start, end);
    return Array.from(value).slice(start, end).join("");
  };
}
