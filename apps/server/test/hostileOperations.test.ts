/**
 * Every operation in the spec, hostile callers' way, property-based (fast-check), against the real server
 * and database: for each documented method and path, requests generated from the operation's own parameter
 * and body schemas (valid-looking values, values just outside them, control characters, strings PostgreSQL
 * cannot store, wrong types, anything at all), with a valid machine token, a publishable key, a forged
 * token or no credential. Each answer must be: never a 5xx, an error in the documented envelope, and when it
 * is a refusal, nothing changed in the database.
 *
 * Reproducing a failure: each run prints its seed; `FC_SEED=<seed> npx vitest run hostileOperations` replays it.
 */
import fc from "fast-check";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { loadSpec, type OpenApiSpec } from "../src/http/openApiSpec.js";
import { fastCheckRuns } from "./support/fastCheckRuns.js";
import { bearer, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import { emitEvent, routeToReceiver } from "./support/webhookRoutes.js";

const runs = fastCheckRuns("hostileOperations");

type Schema = Record<string, unknown>;
interface Parameter {
  readonly name: string;
  readonly in: "path" | "query" | "header";
  readonly required?: boolean;
  readonly schema?: Schema;
}
interface Operation {
  readonly method: string;
  readonly path: string;
  readonly parameters: readonly Parameter[];
  readonly body: Schema | undefined;
}

let server: TestServer;
let tenant: Tenant;
let spec: OpenApiSpec;
/** Ids of things that exist, so that generated paths sometimes name them. */
const known: string[] = [];

// No worker: nothing changes in the database but through the requests under test.
const { closers } = useTestServer({ tenant: "Operations" }, async (file) => {
  ({ server, tenant } = file);
  spec = await loadSpec();
  // Something of every kind, for paths to name: a workspace, a connection, a rule, an event.
  const { connectionId, ruleId } = await routeToReceiver(server, tenant, "ops.event", { closers });
  const event = await emitEvent(server, tenant, { event: "ops.event", payload: { n: 1 } });
  known.push(tenant.workspaceId, connectionId, ruleId, event.id);
});

function resolve(node: unknown): Schema {
  let current = node as Schema;
  for (let depth = 0; typeof current?.$ref === "string" && depth < 10; depth += 1) {
    current = (current.$ref as string)
      .slice(2)
      .split("/")
      .reduce<unknown>((at, part) => (at as Record<string, unknown>)[part], spec) as Schema;
  }
  return current ?? {};
}

function operations(): Operation[] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    (["get", "put", "post", "delete", "patch"] as const).flatMap((method) => {
      const operation = item[method] as (Schema & { parameters?: unknown[] }) | undefined;
      if (operation === undefined) return [];
      const parameters = [...((item.parameters as unknown[] | undefined) ?? []), ...(operation.parameters ?? [])].map(
        (p) => resolve(p) as unknown as Parameter,
      );
      const content = (resolve(operation.requestBody) as { content?: Record<string, { schema?: unknown }> }).content;
      const body = content?.["application/json"]?.schema;
      return [{ method: method.toUpperCase(), path, parameters, body: body === undefined ? undefined : resolve(body) }];
    }),
  );
}

/** Text a hostile caller would try, beside what the schema suggests: what PostgreSQL or a log cannot take, half the time. */
const hostileText = fc.oneof(
  fc.constantFrom("a\u0000b", "\u0000", "\u001b[31m", "line\r\nbreak", "a\ud800b"),
  fc.constantFrom("", " ", "é😀", "x".repeat(300), "' or 1=1 --", "__proto__", "../../etc"),
);

function arbitraryFor(schemaNode: unknown, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(schemaNode);
  const wild = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), hostileText, fc.constant([]), fc.constant({}));
  if (depth > 3) return wild;
  const choices: fc.Arbitrary<unknown>[] = [];
  const alternatives = (schema.oneOf ?? schema.anyOf) as unknown[] | undefined;
  if (alternatives !== undefined) choices.push(...alternatives.map((s) => arbitraryFor(s, depth + 1)));
  if (Array.isArray(schema.enum)) choices.push(fc.constantFrom(...(schema.enum as unknown[])));
  if (schema.const !== undefined) choices.push(fc.constant(schema.const));
  if (Array.isArray(schema.examples) && schema.examples.length > 0) choices.push(fc.constantFrom(...(schema.examples as unknown[])));
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === "string" ? [schema.type] : [];
  for (const type of types) {
    if (type === "string") {
      if (schema.format === "uuid") choices.push(fc.constantFrom(...known), fc.uuid());
      else if (schema.format === "date-time")
        choices.push(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.constantFrom("2026-02-30T00:00:00Z", "2026-01-01T23:59:60Z"),
        );
      else choices.push(fc.string({ maxLength: 40 }), hostileText, hostileText);
    } else if (type === "integer" || type === "number") {
      choices.push(fc.integer({ min: -5, max: 500 }), fc.constantFrom(0, -1, 2 ** 53, 1.5));
    } else if (type === "boolean") {
      choices.push(fc.boolean());
    } else if (type === "null") {
      choices.push(fc.constant(null));
    } else if (type === "array") {
      choices.push(fc.array(arbitraryFor(schema.items, depth + 1), { maxLength: 3 }));
    } else if (type === "object") {
      const properties = (schema.properties as Record<string, unknown> | undefined) ?? {};
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const record = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, arbitraryFor(s, depth + 1)]));
      choices.push(
        fc.record(record, { requiredKeys: [...required].filter((k) => k in record) }),
        fc
          .record(record)
          .chain((r) => fc.dictionary(fc.string({ maxLength: 8 }), wild, { maxKeys: 2 }).map((extra) => ({ ...extra, ...r }))),
      );
    }
  }
  if (choices.length === 0) choices.push(wild);
  return fc.oneof({ arbitrary: fc.oneof(...choices), weight: 5 }, { arbitrary: wild, weight: 1 });
}

/** Unpaired surrogates: text a URL cannot carry (their percent-encoding does not exist). */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function text(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? "");
}

function requestFor(
  operation: Operation,
): fc.Arbitrary<{ url: string; headers: Record<string, string>; body: string | undefined; credential: string }> {
  const pathParams = operation.parameters.filter((p) => p.in === "path");
  const queryParams = operation.parameters.filter((p) => p.in === "query");
  const headerParams = operation.parameters.filter((p) => p.in === "header");
  return fc
    .record({
      path: fc.tuple(...pathParams.map((p) => fc.oneof(fc.constantFrom(...known), arbitraryFor(p.schema).map(text)))),
      query: fc
        .subarray(queryParams)
        .chain((chosen) => fc.tuple(...chosen.map((p) => arbitraryFor(p.schema).map((v) => [p.name, text(v)] as const)))),
      headers: fc
        .subarray(headerParams)
        .chain((chosen) => fc.tuple(...chosen.map((p) => arbitraryFor(p.schema).map((v) => [p.name, text(v)] as const)))),
      body:
        operation.body === undefined
          ? fc.constant(undefined)
          : fc.oneof({ arbitrary: arbitraryFor(operation.body), weight: 6 }, { arbitrary: fc.anything(), weight: 1 }),
      credential: fc.constantFrom("machine", "machine", "machine", "publishableKey", "forged", "none"),
    })
    .map(({ path, query, headers, body, credential }) => {
      let url = operation.path;
      pathParams.forEach((p, i) => {
        url = url.replace(`{${p.name}}`, encodeURIComponent((path[i] ?? "").replace(loneSurrogate, "\ufffd")).replaceAll(".", "%2E"));
      });
      const search = new URLSearchParams();
      for (const [name, value] of query) {
        // A URL cannot carry a lone surrogate; the rest goes as it is.
        search.append(name, value.replace(loneSurrogate, "\ufffd"));
      }
      const headerValues: Record<string, string> = {};
      for (const [name, value] of headers) if (/^[\t\x20-\x7e]*$/.test(value)) headerValues[name] = value;
      return {
        url: `${url}${search.size > 0 ? `?${search}` : ""}`,
        headers: headerValues,
        body: body === undefined ? undefined : (JSON.stringify(body) ?? "null"),
        credential,
      };
    });
}

async function credentialHeaders(credential: string): Promise<Record<string, string>> {
  if (credential === "machine") return bearer(tenant.machine);
  if (credential === "publishableKey") return { "X-Meshes-Publishable-Key": tenant.publishableKey };
  if (credential === "forged") return { Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln" };
  return {};
}

/** A fingerprint of everything a request could change: every table's row count and the newest change. */
async function databaseState(): Promise<string> {
  const { rows } = await sql<{ state: string }>`
    select concat_ws(',',
      (select count(*) from organizations), (select count(*) from access_keys where revoked_at is null),
      (select count(*) from workspaces), (select max(updated_at) from workspaces),
      (select count(*) from publishable_keys where revoked_at is null),
      (select count(*) from connections), (select max(updated_at) from connections),
      (select count(*) from rules), (select string_agg(concat(active, deleted_at), ',' order by id) from rules),
      (select count(*) from events), (select count(*) from rule_events), (select string_agg(status, '' order by id) from rule_events),
      (select count(*) from idempotency_keys)) as state`.execute(server.db);
  return rows[0]?.state ?? "";
}

describe("every operation in the spec, called as a hostile caller would", () => {
  it("when any documented operation is sent generated, malformed or hostile input with any credential, then it never answers 5xx, errors are in the envelope, and a refusal changes nothing", async () => {
    const all = operations();
    expect(all.length).toBeGreaterThan(25);
    // Per operation, how its answers fell: a generator that only ever made 400s would prove little.
    const tally = new Map<string, Map<string, number>>();
    for (const operation of all) {
      await fc.assert(
        fc.asyncProperty(requestFor(operation), async (request) => {
          const before = await databaseState();
          const response = await fetch(`${server.baseUrl}${request.url}`, {
            method: operation.method,
            headers: {
              ...(await credentialHeaders(request.credential)),
              ...request.headers,
              ...(request.body === undefined ? {} : { "Content-Type": "application/json" }),
            },
            body: request.body,
            signal: AbortSignal.timeout(10_000),
          });
          const raw = await response.text();
          const name = `${operation.method} ${operation.path}`;
          const byStatus = tally.get(name) ?? new Map<string, number>();
          byStatus.set(String(response.status), (byStatus.get(String(response.status)) ?? 0) + 1);
          tally.set(name, byStatus);
          const context = `${operation.method} ${request.url} (${request.credential}) ${request.body?.slice(0, 200) ?? ""} → ${response.status} ${raw.slice(0, 300)}`;
          expect(response.status, context).toBeLessThan(500);
          if (response.status >= 400) {
            const answer = JSON.parse(raw) as { message?: unknown; error?: { name?: unknown; message?: unknown } };
            expect(typeof answer.message, context).toBe("string");
            expect(typeof answer.error?.name, context).toBe("string");
            expect(typeof answer.error?.message, context).toBe("string");
            expect(await databaseState(), `refused, yet changed: ${context}`).toBe(before);
          }
        }),
        runs(60),
      );
    }
    console.info(
      [...tally]
        .map(
          ([name, byStatus]) =>
            `${name}: ${[...byStatus]
              .sort()
              .map(([status, n]) => `${n}×${status}`)
              .join(" ")}`,
        )
        .join("\n"),
    );
    const statuses = [...tally.values()].flatMap((byStatus) => [...byStatus.keys()].map(Number));
    expect(
      statuses.some((status) => status >= 200 && status < 300),
      "some generated requests succeed",
    ).toBe(true);
    expect(new Set(statuses.filter((status) => status >= 400)).size, "refusals of several kinds").toBeGreaterThan(3);
  }, 240_000);
});
