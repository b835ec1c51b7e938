import type { AttemptFacts } from "../destinationPlugin.js";
import type { ProviderAnswer } from "../providers/callProvider.js";
import { isPlainObject } from "../providers/isPlainObject.js";

/**
 * The facts of one HubSpot answer, with a message naming the step and what HubSpot said in terms that carry no
 * payload data: the error `category`, error `code`s, the properties named, missing scopes, the rate-limit policy.
 * HubSpot's own messages may quote values (an invalid email), so they stay in the recorded body only.
 *
 * The status decides the outcome (401 and 403 `auth_failed`, 429 `rate_limited` after Retry-After, other 4xx
 * `rejected_client_error`, 5xx retried), except a 207 Multi-Status, which reports a batch item that failed.
 */
export function hubspotFacts(step: string, answer: ProviderAnswer): AttemptFacts {
  const { facts, json } = answer;
  const status = facts.httpStatus;
  if (status === undefined) return { ...facts, message: `${step}: ${facts.message ?? facts.failure}` };
  if (status === 207) {
    return { ...facts, providerOutcome: "rejected_client_error", message: `HubSpot answered 207 to ${step}: ${describeBatchErrors(json)}` };
  }
  if (status >= 200 && status < 300) return facts;
  return { ...facts, message: `HubSpot answered ${status} to ${step}${describeError(json)}` };
}

/** `: VALIDATION_ERROR (INVALID_EMAIL; properties: email)` and the like; empty when the body says nothing usable. */
function describeError(json: unknown): string {
  if (!isPlainObject(json)) return "";
  const parts: string[] = [];
  const head = words(json.category) ?? words(json.errorType);
  const detail: string[] = [];
  const codes = new Set<string>();
  const properties = new Set<string>();
  const scopes = new Set<string>(scopesIn(json.context));
  for (const item of Array.isArray(json.errors) ? json.errors : []) {
    if (!isPlainObject(item)) continue;
    const code = words(item.code);
    if (code !== undefined) codes.add(code);
    for (const name of namesIn(isPlainObject(item.context) ? item.context.propertyName : undefined)) properties.add(name);
    for (const scope of scopesIn(item.context)) scopes.add(scope);
  }
  if (codes.size > 0) detail.push([...codes].join(", "));
  if (properties.size > 0) detail.push(`properties: ${[...properties].join(", ")}`);
  if (scopes.size > 0) detail.push(`scopes required: ${[...scopes].join(", ")}`);
  const policy = words(json.policyName);
  if (policy !== undefined) detail.push(`policy ${policy}`);
  if (head !== undefined) parts.push(head);
  if (detail.length > 0) parts.push(`(${detail.join("; ")})`);
  return parts.length > 0 ? `: ${parts.join(" ")}` : "";
}

function describeBatchErrors(json: unknown): string {
  const errors = isPlainObject(json) && Array.isArray(json.errors) ? json.errors : [];
  const described = errors.map((error) => describeError(error).replace(/^: /, "")).filter((text) => text !== "");
  return described.length > 0 ? described.join("; ") : "an item of the batch failed";
}

/** A machine word (an error code, a property or scope name): letters, digits, `_ . -`, at most 100 characters. */
function words(value: unknown): string | undefined {
  return typeof value === "string" && /^[A-Za-z0-9_.:-]{1,100}$/.test(value) ? value : undefined;
}

/** The scopes a 403 names (`requiredScopes`, or `missingScopes` in older answers). */
function scopesIn(context: unknown): string[] {
  return isPlainObject(context) ? [...namesIn(context.requiredScopes), ...namesIn(context.missingScopes)] : [];
}

function namesIn(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list
    .map(words)
    .filter((name): name is string => name !== undefined)
    .slice(0, 20);
}
