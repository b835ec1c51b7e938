import type { ConfigError } from "../destinationPlugin.js";

/** What one text field of a connection's config may hold. */
export interface TextFieldRule {
  readonly required?: boolean;
  readonly maxLength: number;
  /** Checked on the whole value; say what it means in `patternMessage`. */
  readonly pattern?: RegExp;
  readonly patternMessage?: string;
}

export type TextFields =
  | { readonly ok: true; readonly values: Record<string, string> }
  | { readonly ok: false; readonly errors: ConfigError[] };

/**
 * Reads an object of text fields (a connection's `metadata` or `secrets`): every key must be one of `rules`, every
 * value a non-empty string that fits its rule. `param` prefixes the error paths (`metadata`, `secrets`). Empty
 * strings and nulls count as absent, as Meshes' forms send them.
 */
export function parseTextFields(value: unknown, param: string, rules: Readonly<Record<string, TextFieldRule>>): TextFields {
  if (value === undefined || value === null) value = {};
  if (typeof value !== "object" || Array.isArray(value)) return { ok: false, errors: [{ param, msg: "must be an object" }] };
  const errors: ConfigError[] = [];
  const values: Record<string, string> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    const rule = rules[key];
    if (rule === undefined)
      errors.push({ param: `${param}.${key}`, msg: `is not a field of this integration (it has: ${Object.keys(rules).join(", ")})` });
    else if (field === undefined || field === null || field === "") continue;
    else if (typeof field !== "string") errors.push({ param: `${param}.${key}`, msg: "must be a string" });
    else if (field.length > rule.maxLength) errors.push({ param: `${param}.${key}`, msg: `must be at most ${rule.maxLength} characters` });
    else if (rule.pattern !== undefined && !rule.pattern.test(field))
      errors.push({ param: `${param}.${key}`, msg: rule.patternMessage ?? `must match ${rule.pattern.source}` });
    else values[key] = field;
  }
  for (const [key, rule] of Object.entries(rules)) {
    if (rule.required && values[key] === undefined && !errors.some((e) => e.param === `${param}.${key}`))
      errors.push({ param: `${param}.${key}`, msg: "is required" });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}
