import type { DeliveryRequest } from "../destinationPlugin.js";

export type ContactProperties =
  | { readonly ok: true; readonly email: string; readonly properties: Record<string, string> }
  | { readonly ok: false; readonly message: string };

/**
 * The contact's HubSpot properties from the mapping's output (property name → value). HubSpot takes every property
 * value as text: numbers and booleans are written as text, `null` as "" (which clears the property), a list as
 * its items joined by ";" (HubSpot's multi-select format). An object cannot be a property value: that is a mapping
 * failure naming the property. `email` is required, as contacts are upserted by it.
 */
export function contactProperties(mapped: DeliveryRequest["mapped"]): ContactProperties {
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(mapped)) {
    const text = propertyText(value);
    if (text === undefined) return { ok: false, message: `the mapped field "${name}" is not text, a number, a boolean or a list of them` };
    properties[name] = text;
  }
  const email = properties.email?.trim();
  if (email === undefined || email === "") {
    return { ok: false, message: 'the mapping produced no "email", which HubSpot contacts are upserted by' };
  }
  return { ok: true, email, properties: { ...properties, email } };
}

function propertyText(value: unknown): string | undefined {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) {
    const items = value.map(propertyText);
    return items.every((item) => item !== undefined) && value.every((item) => !Array.isArray(item)) ? items.join(";") : undefined;
  }
  return undefined;
}
