import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { IngestLimits } from "@switchyard/event-intake";
import { parse } from "yaml";

type HttpMethod = "get" | "put" | "post" | "delete" | "patch";

export interface OpenApiOperation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, { schema: object }> };
}

/** The parts of the OpenAPI document the server reads; the rest is handed to the validator as is. */
export interface OpenApiSpec {
  openapi: string;
  security?: Array<Record<string, string[]>>;
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>> & { parameters?: unknown }>;
  components: { schemas: Record<string, object> };
}

export const specPath = fileURLToPath(import.meta.resolve("@switchyard/openapi/openapi.yaml"));

/** Reads and parses `openapi/openapi.yaml`, the single source of the contract. */
export async function loadSpec(): Promise<OpenApiSpec> {
  return parse(await readFile(specPath, "utf8")) as OpenApiSpec;
}

export function eventInputSchema(spec: OpenApiSpec): object {
  const schema = spec.components.schemas.EventInput;
  if (schema === undefined) throw new Error("openapi.yaml has no EventInput schema");
  return schema;
}

/**
 * The copy of the spec given to express-openapi-validator. The ingestion bodies are relaxed to "any
 * JSON" (single) and "an array of anything" (bulk), so that one bad item becomes its own 207 record (or
 * 400 with the same per-item messages) instead of failing the request; each item is then checked by the
 * validator compiled from the same `EventInput` schema. The public spec stays strict so the generated
 * client's types stay strong. The two ingestion operations also ignore query parameters they do not know
 * (Meshes' SDKs pass a caller's `query` option through), and so does the OAuth callback (providers add their own);
 * management operations stay strict.
 */
export function specForRequestValidation(spec: OpenApiSpec, limits: IngestLimits): OpenApiSpec {
  const copy = structuredClone(spec);
  applyTextRule(copy);
  const operations = Object.values(copy.paths).flatMap((item) => Object.values(item) as OpenApiOperation[]);
  for (const operation of operations) {
    // The OAuth redirect carries what each provider adds (Discord's `guild_id`, Salesforce's `sfdc_community_url`).
    if (operation.operationId === "completeOAuthConnection")
      (operation as Record<string, unknown>)["x-eov-allow-unknown-query-parameters"] = true;
    const json = operation.requestBody?.content["application/json"];
    if (json === undefined) continue;
    if (operation.operationId === "createEvent" || operation.operationId === "createEventsBulk") {
      (operation as Record<string, unknown>)["x-eov-allow-unknown-query-parameters"] = true;
    }
    if (operation.operationId === "createEvent") json.schema = {};
    if (operation.operationId === "createEventsBulk")
      json.schema = { type: "array", minItems: 1, maxItems: limits.maxBatchItems, items: {} };
  }
  return copy;
}

/**
 * The one rule for text the server stores or looks up: no control characters (U+0000, which PostgreSQL
 * cannot store, ESC, CR, LF…) and no unpaired surrogates (not Unicode: PostgreSQL would be sent U+FFFD
 * instead). Ajv compiles patterns with the `u` flag, so `\p{…}` classes work.
 */
const textPattern = "^[^\\p{Cc}\\p{Cs}]*$";

/**
 * Gives every string a request carries (its parameters and body, following `$ref`s into the components they
 * use) that has no pattern, format or enum of its own the text rule, instead of a rule per field: a field
 * added later is covered too. Response-only schemas are left alone: a captured response body may hold any text.
 */
function applyTextRule(spec: OpenApiSpec): void {
  const document = spec as unknown as Record<string, unknown>;
  const seen = new Set<unknown>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== "object" || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    const schema = node as Record<string, unknown>;
    if (typeof schema.$ref === "string") visit(resolveRef(document, schema.$ref));
    const type = schema.type;
    const isString = type === "string" || (Array.isArray(type) && type.includes("string"));
    if (isString && [schema.pattern, schema.format, schema.enum, schema.const].every((v) => v === undefined)) schema.pattern = textPattern;
    for (const [key, value] of Object.entries(schema)) {
      // Examples are data, not schemas; responses are not what the caller sends.
      if (key !== "example" && key !== "examples" && key !== "responses") visit(value);
    }
  };
  for (const item of Object.values(spec.paths)) visit(item);
}

function resolveRef(document: Record<string, unknown>, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  return ref
    .slice(2)
    .split("/")
    .reduce<unknown>(
      (node, part) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined),
      document,
    );
}

/**
 * RFC 3339 `date-time`, as an instant JavaScript can represent: Ajv's own format takes a leap second
 * (`23:59:60`) and any two-digit offset (`+25:00`), which `new Date` turns into Invalid Date.
 */
export function isDateTime(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/.exec(value);
  if (match === null) return false;
  const [year, month, day, hour, minute, second, offsetHours = 0, offsetMinutes = 0] = match.slice(1).map((part) => Number(part ?? 0));
  const daysInMonth = new Date(Date.UTC(year ?? 0, month ?? 0, 0)).getUTCDate();
  return (
    (month ?? 0) >= 1 &&
    (month ?? 0) <= 12 &&
    (day ?? 0) >= 1 &&
    (day ?? 0) <= daysInMonth &&
    (hour ?? 0) <= 23 &&
    (minute ?? 0) <= 59 &&
    (second ?? 0) <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59
  );
}

/** A documented route: its method, a matcher of its paths, the security schemes that may call it, and its operation. */
export interface DocumentedRoute {
  readonly method: string;
  readonly pattern: RegExp;
  readonly schemes: Set<string>;
  readonly operationId: string | undefined;
  /** The spec's path, `{param}`s and all. */
  readonly path: string;
}

/** For each documented route, a matcher and the security schemes that may call it (from the spec). */
export function securityByRoute(spec: OpenApiSpec): DocumentedRoute[] {
  const routes: DocumentedRoute[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    // Spec paths hold only letters, digits, "-", "/" and {params}: nothing else needs escaping.
    // Case-insensitive, as Express routes are: /API/V1/EVENTS reaches the same handler, so it must meet the same checks.
    const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}/?$`, "i");
    for (const method of ["get", "put", "post", "delete", "patch"] as const) {
      const operation = item[method];
      if (operation === undefined) continue;
      const security = operation.security ?? spec.security ?? [];
      const schemes = new Set(security.flatMap((s) => Object.keys(s)));
      routes.push({ method: method.toUpperCase(), pattern, schemes, operationId: operation.operationId, path });
    }
  }
  return routes;
}
