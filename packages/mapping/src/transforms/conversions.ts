import { expected, Refusal } from "./refusal.js";

const notFinite = new Refusal("the number is not finite");
const notDecimal = new Refusal("the string is not a decimal number");
const notBooleanNumber = new Refusal("only the numbers 1 and 0 are booleans");
const notBooleanWord = new Refusal("the string is not one of true/yes/y/on/1 or false/no/n/off/0");

/*
 * to_string, to_number, to_boolean. Absent values and null are passed through by the caller, never seen here.
 */

/** A string as is; a finite number in JavaScript's shortest form (`-0` → "0"); a boolean as "true"/"false". */
export function toStringStep(value: unknown): unknown {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return Number.isFinite(value) ? String(value) : notFinite;
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return String(value);
    default:
      return expected("a string, number or boolean", value);
  }
}

/** Decimal numbers only: an optional sign, digits with an optional fraction, an optional exponent. */
const decimal = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * A finite number as is; a boolean as 1 or 0; a string that, trimmed, is a decimal number (`" 12.5 "`,
 * `"-3"`, `"1e3"`) and finite. Refused: `""`, `"0x10"`, `"1,000"`, `"12abc"`, `"Infinity"`, `"NaN"`, `"1e999"`.
 */
export function toNumberStep(value: unknown): unknown {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? value : notFinite;
    case "boolean":
      return value ? 1 : 0;
    case "string": {
      const text = value.trim();
      if (!decimal.test(text)) return notDecimal;
      const number = Number(text);
      return Number.isFinite(number) ? number : notFinite;
    }
    default:
      return expected("a number, string or boolean", value);
  }
}

const truthy = new Set(["true", "yes", "y", "on", "1"]);
const falsy = new Set(["false", "no", "n", "off", "0"]);

/**
 * A boolean as is; the numbers 1 and 0; a string that, trimmed and in any case, is one of
 * true/yes/y/on/1 or false/no/n/off/0. Anything else is refused (`""`, `"2"`, `2`, `"maybe"`).
 */
export function toBooleanStep(value: unknown): unknown {
  switch (typeof value) {
    case "boolean":
      return value;
    case "number":
      return value === 1 ? true : value === 0 ? false : notBooleanNumber;
    case "string": {
      const trimmed = value.trim();
      const word = trimmed.length > 5 ? "" : trimmed.toLowerCase();
      return truthy.has(word) ? true : falsy.has(word) ? false : notBooleanWord;
    }
    default:
      return expected("a boolean, number or string", value);
  }
}
