import { utf8Length } from "./utf8Length.js";

/**
 * The UTF-8 length of `JSON.stringify(value)`, or `undefined` when it has no JSON form (`undefined`, a function,
 * a symbol) or cannot be serialized (a bigint, a cycle, nesting too deep for the stack). Scalars are measured
 * without serializing them: this runs for every field of every delivery.
 */
export function jsonBytes(value: unknown): number | undefined {
  switch (typeof value) {
    case "string":
      return jsonStringBytes(value);
    case "number":
      return Number.isFinite(value) ? String(value).length : 4;
    case "boolean":
      return value ? 4 : 5;
    case "object":
      return value === null ? 4 : serializedBytes(value);
    default:
      return undefined;
  }
}

/** The UTF-8 length of a string as JSON writes it: quoted, with `"`, `\` and controls escaped, lone surrogates as `\uXXXX`. */
export function jsonStringBytes(text: string): number {
  let bytes = 2 + text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 && code < 0x7f && code !== 0x22 && code !== 0x5c) continue;
    bytes += extraBytes(code, text.charCodeAt(i + 1));
    if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) i++;
  }
  return bytes;
}

/** Bytes beyond the one already counted for the code unit `code` (and, for a surrogate pair, the next one). */
function extraBytes(code: number, next: number): number {
  if (code === 0x22 || code === 0x5c || code === 0x08 || code === 0x0c || code === 0x0a || code === 0x0d || code === 0x09) return 1;
  if (code < 0x20) return 5; // \u00XX
  if (code < 0x80) return 0; // DEL
  if (code < 0x800) return 1;
  if (code >= 0xd800 && code <= 0xdbff) return isLowSurrogate(next) ? 2 : 5; // a pair: 4 bytes for 2 units; alone: \uXXXX
  if (code >= 0xdc00 && code <= 0xdfff) return 5;
  return 2;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function serializedBytes(value: object): number | undefined {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? undefined : utf8Length(json);
  } catch {
    return undefined;
  }
}
