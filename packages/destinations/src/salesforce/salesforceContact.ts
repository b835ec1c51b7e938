import type { DeliveryRequest } from "../destinationPlugin.js";

export type ContactFields =
  | { readonly ok: true; readonly email: string; readonly fields: Record<string, string | number | boolean | null> }
  | { readonly ok: false; readonly message: string };

/**
 * The Contact's fields from the mapping's output (field API name → value), sent as JSON: text, numbers, booleans
 * and `null` (which clears a field) as they are, a list as its items joined by ";" (a multi-select picklist's
 * format). An object is a mapping failure naming the field. `Email` is required: Contacts are matched by it.
 */
export function contactFields(mapped: DeliveryRequest["mapped"]): ContactFields {
  const fields: Record<string, string | number | boolean | null> = {};
  for (const [name, value] of Object.entries(mapped)) {
    const json = fieldValue(value);
    if (json === undefined) return { ok: false, message: `the mapped field "${name}" is not text, a number, a boolean or a list of them` };
    fields[name] = json;
  }
  const email = typeof fields.Email === "string" ? fields.Email.trim() : "";
  if (email === "") return { ok: false, message: 'the mapping produced no "Email", which Salesforce Contacts are matched by' };
  return { ok: true, email, fields: { ...fields, Email: email } };
}

function fieldValue(value: unknown): string | number | boolean | null | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (Array.isArray(value)) {
    const items = value.map(fieldValue);
    return items.every((item) => item !== undefined && item !== null) && value.every((item) => !Array.isArray(item))
      ? items.join(";")
      : undefined;
  }
  return undefined;
}

/** What a Contact needs to be created that the mapping did not produce: `LastName` is required by Salesforce. */
export function missingForCreate(fields: Readonly<Record<string, unknown>>): string | undefined {
  const lastName = fields.LastName;
  return typeof lastName === "string" && lastName.trim() !== "" ? undefined : "LastName";
}
