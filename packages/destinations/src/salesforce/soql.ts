/**
 * A SOQL string literal: the value in single quotes with SOQL's escape sequences (`\\`, `\'`, `\"`, `\n`, `\r`,
 * `\t`, `\f`; other control characters as `\uXXXX`), so that no value can end the literal and change the query.
 * For `=` comparisons only: `%` and `_` are wildcards in LIKE, which this does not escape.
 */
export function soqlString(value: string): string {
  let escaped = "";
  for (const char of value) escaped += escapes[char] ?? (isControl(char) ? unicodeEscape(char) : char);
  return `'${escaped}'`;
}

const escapes: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  "'": "\\'",
  '"': '\\"',
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\f": "\\f",
};

function isControl(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f;
}

function unicodeEscape(char: string): string {
  return `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;
}

/** Salesforce record ids: 15 case-sensitive or 18 case-insensitive alphanumeric characters. */
export function isSalesforceId(value: string): boolean {
  return /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/.test(value);
}
