export type Formatted = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

const empty: Formatted = Object.freeze({ ok: true, text: "" });

/**
 * The text a placeholder writes for a value: strings as they are (never escaped: the text is a plain message),
 * numbers, booleans and bigints as JavaScript writes them, objects and arrays as compact JSON, and nothing for
 * null, a missing value or anything JSON cannot hold.
 */
export function formatValue(value: unknown): Formatted {
  switch (typeof value) {
    case "string":
      return { ok: true, text: value };
    case "number":
    case "boolean":
    case "bigint":
      return { ok: true, text: String(value) };
    case "object":
      return value === null ? empty : formatJson(value);
    default:
      return empty;
  }
}

function formatJson(value: object): Formatted {
  try {
    return { ok: true, text: JSON.stringify(value) ?? "" };
  } catch {
    return { ok: false, error: "a value cannot be written as JSON (it holds a cycle or a bigint)" };
  }
}
