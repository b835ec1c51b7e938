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
 * (Meshes' SDKs pass a caller's `query` option through); management operations stay strict.
 */
export function specForRequestValidation(spec: OpenApiSpec, limits: IngestLimits): OpenApiSpec {
  const copy = structuredClone(spec);
  const operations = Object.values(copy.paths).flatMap((item) => Object.values(item) as OpenApiOperation[]);
  for (const operation of operations) {
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

/** For each documented route, a matcher and the security schemes that may call it (from the spec). */
export function securityByRoute(spec: OpenApiSpec): Array<{ method: string; pattern: RegExp; schemes: Set<string> }> {
  const routes: Array<{ method: string; pattern: RegExp; schemes: Set<string> }> = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    // Spec paths hold only letters, digits, "-", "/" and {params}: nothing else needs escaping.
    // Case-insensitive, as Express routes are: /API/V1/EVENTS reaches the same handler, so it must meet the same checks.
    const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}/?$`, "i");
    for (const method of ["get", "put", "post", "delete", "patch"] as const) {
      const operation = item[method];
      if (operation === undefined) continue;
      const security = operation.security ?? spec.security ?? [];
      routes.push({ method: method.toUpperCase(), pattern, schemes: new Set(security.flatMap((s) => Object.keys(s))) });
    }
  }
  return routes;
}
