/** A contact read from a delivery's mapped fields: the email it is upserted by, and every other field. */
export type MappedContact =
  | { readonly ok: true; readonly email: string; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly message: string };

/**
 * Splits the mapping's output into the contact's email (the first of `emailKeys` that is set: the provider's own
 * key first, then `email`) and the other fields. Fields without a value (undefined or null) are left out, so an
 * upsert never erases what the provider holds because one event lacked it. Messages name fields, never values.
 */
export function mappedContact(mapped: Readonly<Record<string, unknown>>, emailKeys: readonly [string, ...string[]]): MappedContact {
  const key = emailKeys.find((name) => mapped[name] !== undefined && mapped[name] !== null && mapped[name] !== "");
  const [preferred] = emailKeys;
  if (key === undefined) {
    return { ok: false, message: `the mapping produced no ${preferred}: map the payload's email onto ${preferred}` };
  }
  const value = mapped[key];
  if (typeof value !== "string" || value.trim() === "") return { ok: false, message: `the mapped ${key} is not text` };
  const email = value.trim();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) return { ok: false, message: `the mapped ${key} is not an email address` };
  const fields: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(mapped)) {
    if (!emailKeys.includes(name) && field !== undefined && field !== null) fields[name] = field;
  }
  return { ok: true, email, fields };
}
