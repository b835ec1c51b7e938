/**
 * Hostile input, property-based (fast-check), against the real server and database: generated JSON and
 * near-JSON bodies, items PostgreSQL cannot store, wrong content types and encodings, lying framing,
 * odd headers and methods, thrown at both ingestion endpoints.
 *
 * Every case asserts what a client relies on: never a 5xx; every error in the CONTRACT §3 envelope; a
 * 201/207 whose `records[i]` answers item `i` as the oracle below predicts it; and, in the `events`
 * table, exactly the accepted items, each once, with the payload that was sent (as JSON round-trips it).
 *
 * Reproducing a failure: each run prints its seed; `FC_SEED=<seed> npx vitest run hostileInput` replays
 * the run (fast-check's report also gives the counterexample and its path).
 */
import { randomInt } from "node:crypto";
import { request as httpRequest, STATUS_CODES } from "node:http";
import { connect } from "node:net";
import { brotliCompressSync, deflateSync, gunzipSync, gzipSync, constants as zlibConstants } from "node:zlib";
import { createTestDatabase } from "@switchyard/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec } from "../src/spec/openApiSpec.js";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import { startTestServer, type TestServer, testConfig } from "./support/testServer.js";

const seed = process.env.FC_SEED === undefined ? randomInt(2 ** 31 - 1) : Number(process.env.FC_SEED);
console.info(`hostileInput: fast-check seed ${seed} (replay with FC_SEED=${seed})`);
const runs = (numRuns: number) => ({ seed, numRuns });

const { limits, maxBodyBytes } = testConfig;
/** No request may take longer; a hang fails the property instead of the whole run. */
const requestTimeoutMs = 10_000;

let server: TestServer;
let dropDatabase: () => Promise<void>;
let tenant: Tenant;
/** Another organization: its workspace is foreign to both of `tenant`'s credentials. */
let stranger: Tenant;
/** The fields EventInput declares (any other key is an unknown property), read from the spec. */
let eventFields: ReadonlySet<string>;
/** The methods the spec documents on each ingestion path (others are unsupported there). */
let documentedMethods: Record<string, ReadonlySet<string>>;

beforeAll(async () => {
  const spec = await loadSpec();
  const { properties } = spec.components.schemas.EventInput as { properties: Record<string, unknown> };
  eventFields = new Set(Object.keys(properties));
  documentedMethods = Object.fromEntries(
    Object.values(paths).map((path) => [path, new Set(Object.keys(spec.paths[path] ?? {}).map((m) => m.toUpperCase()))]),
  );
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  server = await startTestServer(database.url);
  tenant = await createTenant(server.db, server.secretBox);
  stranger = await createTenant(server.db, server.secretBox, "Stranger");
});

afterAll(async () => {
  await server?.close();
  await dropDatabase?.();
});

// ---------------------------------------------------------------------------------------------------
// The oracle: CONTRACT §2 and §7 restated from scratch, on the value the server parses.
// ---------------------------------------------------------------------------------------------------

type Credential = "publishableKey" | "machine";

type ItemPrediction =
  | { readonly type: "event" }
  | { readonly type: "error"; readonly name: "ValidationError"; readonly params: ReadonlySet<string> }
  | { readonly type: "error"; readonly name: "Forbidden" };

type RequestPrediction =
  | { readonly kind: "tooLarge" }
  | { readonly kind: "badRequest" }
  | { readonly kind: "single"; readonly item: unknown; readonly verdict: ItemPrediction }
  | { readonly kind: "bulk"; readonly items: readonly unknown[]; readonly verdicts: readonly ItemPrediction[] };

const canonicalUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** "Printable": no code point of Unicode's general category C (controls, format, surrogates, private use, unassigned). */
const printable = /^\P{C}+$/u;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);
const has = (item: Record<string, unknown>, key: string) => Object.hasOwn(item, key);

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

/** U+0000 or an unpaired surrogate: what PostgreSQL's text and jsonb refuse. */
function unstorable(s: string): boolean {
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c === 0 || (c >= 0xdc00 && c <= 0xdfff)) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i += 1;
    }
  }
  return false;
}

/** Too deep, unstorable anywhere, a number JSON could not represent (1e400 parses to Infinity), or too big. */
function payloadRefused(payload: Record<string, unknown>): boolean {
  const stack: Array<[unknown, number]> = [[payload, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node === "string") {
      if (unstorable(node)) return true;
    } else if (typeof node === "number") {
      if (!Number.isFinite(node)) return true;
    } else if (node !== null && typeof node === "object") {
      if (depth > limits.maxPayloadDepth) return true;
      for (const [key, child] of Object.entries(node)) {
        if (!Array.isArray(node) && unstorable(key)) return true;
        stack.push([child, depth + 1]);
      }
    }
  }
  return Buffer.byteLength(JSON.stringify(payload), "utf8") > limits.maxPayloadBytes;
}

function predictItem(item: unknown, credential: Credential, root: string): ItemPrediction {
  const invalid = (params: string[]): ItemPrediction => ({ type: "error", name: "ValidationError", params: new Set(params) });
  if (!isObject(item)) return invalid([root]);
  const shape = Object.keys(item).filter((key) => !eventFields.has(key));
  const { event, payload, workspace } = item;
  if (typeof event !== "string" || codePoints(event) < 1 || codePoints(event) > limits.maxEventNameLength || !printable.test(event)) {
    shape.push("event");
  }
  if (!isObject(payload)) shape.push("payload");
  for (const field of ["resource", "resource_id", "idempotency_key"] as const) {
    const value = item[field];
    const min = field === "idempotency_key" ? 1 : 0;
    if (has(item, field) && (typeof value !== "string" || codePoints(value) < min || codePoints(value) > 255)) shape.push(field);
  }
  if (has(item, "workspace") && (typeof workspace !== "string" || !canonicalUuid.test(workspace))) shape.push("workspace");
  if (shape.length > 0) return invalid(shape);

  const storage: string[] = (["event", "resource", "resource_id", "idempotency_key"] as const).filter(
    (field) => has(item, field) && unstorable(item[field] as string),
  );
  if (payloadRefused(payload as Record<string, unknown>)) storage.push("payload");
  if (storage.length > 0) return invalid(storage);

  if (credential === "machine" && workspace === undefined) return invalid(["workspace"]);
  if (workspace !== undefined && (workspace as string).toLowerCase() !== tenant.workspaceId) return { type: "error", name: "Forbidden" };
  return { type: "event" };
}

/** What express.json({ strict: true }) makes of a body: UTF-8 with replacement, one BOM dropped, empty is `{}`. */
function parseAsServer(bytes: Uint8Array): { value: unknown } | undefined {
  let text = Buffer.from(bytes).toString("utf8");
  if (text.startsWith("\ufeff")) text = text.slice(1);
  if (text.length === 0) return { value: {} };
  const first = /^[ \t\n\r]*([^ \t\n\r])/.exec(text)?.[1];
  if (first !== "{" && first !== "[") return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

function predictRequest(endpoint: Endpoint, decodedBody: Uint8Array, credential: Credential): RequestPrediction {
  if (decodedBody.length > maxBodyBytes) return { kind: "tooLarge" };
  const parsed = parseAsServer(decodedBody);
  if (parsed === undefined) return { kind: "badRequest" };
  if (endpoint === "single") return { kind: "single", item: parsed.value, verdict: predictItem(parsed.value, credential, "body") };
  const items = parsed.value;
  if (!Array.isArray(items) || items.length < 1 || items.length > limits.maxBatchItems) return { kind: "badRequest" };
  return { kind: "bulk", items, verdicts: items.map((item) => predictItem(item, credential, "item")) };
}

// ---------------------------------------------------------------------------------------------------
// Sending and checking.
// ---------------------------------------------------------------------------------------------------

type Endpoint = "single" | "bulk";
const paths: Record<Endpoint, string> = { single: "/api/v1/events", bulk: "/api/v1/events/bulk" };

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: unknown;
}

interface ErrorEnvelope {
  readonly message: string;
  readonly error: { readonly name: string; readonly message: string; readonly data?: Array<{ param: string; msg: string }> };
}

interface EventRecord {
  readonly type: "event";
  readonly id: string;
  readonly index?: number;
  readonly workspace: string;
  readonly event: string;
  readonly resource: string | null;
  readonly resource_id: string | null;
  readonly status: string;
  readonly created_by: string;
  readonly created_at: string;
}

type BulkRecord = EventRecord | ({ readonly type: "error"; readonly index: number } & ErrorEnvelope);

function toAnswer(status: number, text: string): Answer {
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, text, body };
}

async function send(path: string, body: Uint8Array | undefined, headers: Record<string, string>, method = "POST"): Promise<Answer> {
  const response = await fetch(`${server.baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(requestTimeoutMs) });
  return toAnswer(response.status, await response.text());
}

async function credentialHeaders(credential: Credential): Promise<Record<string, string>> {
  return credential === "machine" ? bearer(tenant.machine) : { "X-Meshes-Publishable-Key": tenant.publishableKey };
}

const json = { "Content-Type": "application/json" };

async function countEvents(): Promise<number> {
  const row = await server.db
    .selectFrom("events")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const excerpt = (text: string) => (text.length > 400 ? `${text.slice(0, 400)}… (${text.length} chars)` : text);

/** For failure messages: a value too deep for JSON.stringify's recursion is described instead. */
function show(value: unknown): string {
  try {
    return excerpt(JSON.stringify(value) ?? String(value));
  } catch {
    return "(too deep to print)";
  }
}

function expectNoServerError(answer: Answer, context: string): void {
  expect(answer.status, `never a 5xx; got ${answer.text.slice(0, 300)} for ${context}`).toBeLessThan(500);
}

function expectEnvelope(answer: Answer): ErrorEnvelope {
  expect(answer.body, `a ${answer.status} answers in the envelope: ${excerpt(answer.text)}`).toEqual({
    message: STATUS_CODES[answer.status],
    error: expect.objectContaining({ name: expect.any(String), message: expect.any(String) }),
  });
  const { error } = answer.body as ErrorEnvelope;
  expect(Object.keys(error).filter((key) => !["name", "message", "data"].includes(key))).toEqual([]);
  if (error.data !== undefined) {
    expect(Array.isArray(error.data)).toBe(true);
    for (const detail of error.data) expect(detail).toEqual({ param: expect.any(String), msg: expect.any(String) });
  }
  return answer.body as ErrorEnvelope;
}

function expectVerdict(verdict: ItemPrediction, name: string, data: ErrorEnvelope["error"]["data"], context: string): void {
  if (verdict.type === "event") throw new Error(`the oracle accepts ${context}, the server rejected it as ${name}`);
  expect(name, context).toBe(verdict.name);
  if (verdict.name === "ValidationError") {
    const params = (data ?? []).map((d) => d.param);
    expect(params.length, `a validation error names the offending field: ${context}`).toBeGreaterThan(0);
    for (const param of params) expect([...verdict.params], `param "${param}" of ${context}`).toContain(param);
  }
}

function expectEventRecord(record: EventRecord, item: Record<string, unknown>, credential: Credential): void {
  expect(record).toMatchObject({
    type: "event",
    workspace: tenant.workspaceId,
    event: item.event,
    resource: item.resource ?? "global",
    resource_id: item.resource_id ?? null,
    status: expect.stringMatching(/^(pending|completed)$/),
    created_by: credential === "machine" ? tenant.machine.accessKey : tenant.publishableKey.replace(/_[^_]+$/, ""),
  });
}

interface Accepted {
  readonly id: string;
  readonly item: Record<string, unknown>;
}

/** Checks an answer against the prediction; returns the items it accepted, with their ids. */
function expectPredicted(answer: Answer, prediction: RequestPrediction, credential: Credential, context: string): Accepted[] {
  expectNoServerError(answer, context);
  if (answer.status >= 400) expectEnvelope(answer);
  switch (prediction.kind) {
    case "tooLarge":
      expect(answer.status, context).toBe(413);
      expect((answer.body as ErrorEnvelope).error.name).toBe("PayloadTooLarge");
      return [];
    case "badRequest":
      expect(answer.status, `${context} → ${excerpt(answer.text)}`).toBe(400);
      expect((answer.body as ErrorEnvelope).error.name).toBe("BadRequest");
      return [];
    case "single": {
      const { verdict, item } = prediction;
      if (verdict.type === "event") {
        expect(answer.status, `${context} → ${excerpt(answer.text)}`).toBe(201);
        const { event } = answer.body as { event: EventRecord };
        expectEventRecord(event, item as Record<string, unknown>, credential);
        return [{ id: event.id, item: item as Record<string, unknown> }];
      }
      expect(answer.status, `${context} → ${excerpt(answer.text)}`).toBe(verdict.name === "Forbidden" ? 403 : 400);
      const { error } = answer.body as ErrorEnvelope;
      expectVerdict(verdict, error.name, error.data, context);
      return [];
    }
    case "bulk": {
      const { items, verdicts } = prediction;
      const rejected = verdicts.filter((v) => v.type === "error").length;
      expect(answer.status, `${context} → ${excerpt(answer.text)}`).toBe(rejected === 0 ? 201 : 207);
      const body = answer.body as { count: number; error_count: number; records: BulkRecord[] };
      expect(body.count).toBe(items.length);
      expect(body.records).toHaveLength(items.length);
      expect(body.error_count).toBe(body.records.filter((r) => r.type === "error").length);
      expect(body.error_count).toBe(rejected);
      const accepted: Accepted[] = [];
      body.records.forEach((record, i) => {
        const verdict = verdicts[i] as ItemPrediction;
        const itemContext = `item ${i} ${show(items[i])} of ${context}`;
        expect(record.index, itemContext).toBe(i);
        if (record.type === "event") {
          expect(verdict.type, `the oracle rejects ${itemContext}, the server accepted it`).toBe("event");
          expectEventRecord(record, items[i] as Record<string, unknown>, credential);
          accepted.push({ id: record.id, item: items[i] as Record<string, unknown> });
        } else {
          expect(record.message).toBe(record.error.name === "Forbidden" ? "Forbidden" : "Bad Request");
          expectVerdict(verdict, record.error.name, record.error.data, itemContext);
        }
      });
      return accepted;
    }
  }
}

/** Exactly the accepted items were added, each once, with what was sent; nothing of a rejected one. */
async function expectStored(countBefore: number, accepted: readonly Accepted[], credential: Credential): Promise<void> {
  expect((await countEvents()) - countBefore, "rows added = items accepted").toBe(accepted.length);
  if (accepted.length === 0) return;
  expect(new Set(accepted.map((a) => a.id)).size).toBe(accepted.length);
  const rows = await server.db
    .selectFrom("events")
    .select(["id", "workspace_id", "event", "resource", "resource_id", "payload", "created_by"])
    .where(
      "id",
      "in",
      accepted.map((a) => a.id),
    )
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const { id, item } of accepted) {
    expect(byId.get(id), `stored row ${id}`).toEqual({
      id,
      workspace_id: tenant.workspaceId,
      event: item.event,
      resource: item.resource ?? "global",
      resource_id: item.resource_id ?? null,
      // What the server promises to keep: the payload as JSON round-trips it (-0 is 0, 1e-400 is 0).
      payload: JSON.parse(JSON.stringify(item.payload)),
      created_by: credential === "machine" ? tenant.machine.accessKey : tenant.publishableKey.replace(/_[^_]+$/, ""),
    });
  }
}

/** Stands for a fresh idempotency-key prefix in generated text: keys never repeat, so none is a duplicate. */
const keyMark = "KEYMARK";
let keysIssued = 0;
const withFreshKeys = (text: string) => text.replaceAll(keyMark, () => (keysIssued++).toString(36).padStart(keyMark.length, "0"));

/** Sends one JSON body, checks the answer against the oracle and the table against the answer. */
async function sendAndCheck(endpoint: Endpoint, generated: string, credential: Credential, extraHeaders: Record<string, string> = {}) {
  const text = withFreshKeys(generated);
  const bytes = Buffer.from(text, "utf8");
  const before = await countEvents();
  const answer = await send(paths[endpoint], bytes, { ...json, ...(await credentialHeaders(credential)), ...extraHeaders });
  const context = `${credential} ${endpoint} ${excerpt(text)}`;
  const prediction = predictRequest(endpoint, bytes, credential);
  const accepted = expectPredicted(answer, prediction, credential, context);
  await expectStored(before, accepted, credential);
  return { answer, accepted, prediction };
}

/**
 * Counts the outcomes a property's cases reached, so that a generator that drifted into producing only
 * one kind of case (say, nothing but rejections) fails the property instead of passing it emptily.
 */
class Outcomes {
  readonly #seen = new Map<string, number>();

  add(prediction: RequestPrediction): void {
    const verdicts = prediction.kind === "single" ? [prediction.verdict] : prediction.kind === "bulk" ? prediction.verdicts : [];
    if (verdicts.length === 0) this.#count(prediction.kind);
    for (const verdict of verdicts) {
      this.#count(verdict.type === "event" ? "accepted" : verdict.name);
      if (verdict.type === "error" && verdict.name === "ValidationError") for (const param of verdict.params) this.#count(`param:${param}`);
    }
  }

  expectReached(...outcomes: string[]): void {
    for (const outcome of outcomes) expect(this.#seen.get(outcome) ?? 0, `cases reaching ${outcome}`).toBeGreaterThan(0);
  }

  #count(outcome: string): void {
    this.#seen.set(outcome, (this.#seen.get(outcome) ?? 0) + 1);
  }
}

// ---------------------------------------------------------------------------------------------------
// Generators. Everything is generated as JSON text, so that duplicate keys, `__proto__`, escapes the
// serializer would never write and numbers JavaScript cannot hold can all be sent; the oracle judges
// what JSON.parse makes of the text, as the server does.
// ---------------------------------------------------------------------------------------------------

/** NUL and other controls, lone surrogates, zero-width and bidi controls, noncharacters, pairs, escapes. */
const hostileUnits = [
  "\u0000",
  "\u0001",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u00a0",
  "é",
  "e\u0301",
  "\u200b",
  "\u200d",
  "\u200e",
  "\u202e",
  "\u2066",
  "\u2028",
  "\ufeff",
  "\ufffd",
  "\ufffe",
  "\uffff",
  "\ud800",
  "\udbff",
  "\udc00",
  "\udfff",
  "😀",
  "👩‍💻",
  "א",
  "ع",
  "\\",
  '"',
  "/",
  "\n",
  "\t",
  "\\u0000",
  "\\\\u0000",
  "\\ud800",
  " ",
  ".",
];
const hostileUnit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...hostileUnits) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);
const hostileString = fc.string({ unit: hostileUnit, maxLength: 12 });

/** A JSON string literal: as JSON.stringify writes it, or with every code unit escaped (either hex case). */
const stringLiteral = (s: string, style: "plain" | "escaped" | "ESCAPED"): string => {
  if (style === "plain") return JSON.stringify(s);
  let out = "";
  for (let i = 0; i < s.length; i += 1) out += `\\u${s.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return `"${style === "ESCAPED" ? out.toUpperCase().replaceAll("\\U", "\\u") : out}"`;
};
const literalStyle = fc.constantFrom("plain", "plain", "plain", "escaped", "ESCAPED") as fc.Arbitrary<"plain" | "escaped" | "ESCAPED">;
const stringText = (strings: fc.Arbitrary<string>) => fc.tuple(strings, literalStyle).map(([s, style]) => stringLiteral(s, style));
const keyText = stringText(
  fc.oneof({ weight: 4, arbitrary: hostileString }, { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "", "toString") }),
);

/** Number texts, including those a double cannot hold: 1e400 parses to Infinity, 1e-400 to 0. */
const numberText = fc.oneof(
  fc.constantFrom(
    "0",
    "-0",
    "1e400",
    "-1e400",
    "1E400",
    "1e-400",
    "1e308",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "5e-324",
    "123456789012345678901234567890",
    "-9007199254740993",
    "0.1",
    "1.0",
    "1e+2",
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.integer().map(String),
);

const { value: valueText, object: objectText } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom("null", "true", "false"),
    numberText,
    stringText(hostileString),
    tie("array"),
    tie("object"),
  ),
  array: fc.array(tie("value"), { maxLength: 4 }).map((values) => `[${values.join(",")}]`),
  object: fc
    .array(fc.tuple(keyText, tie("value")), { maxLength: 4 })
    .map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(",")}}`),
}));

/** `inner` wrapped in `depth` arrays or objects. */
function nested(depth: number, inner: string, kind: "array" | "object" | "mixed"): string {
  const levels = Array.from({ length: depth }, (_, i) => kind === "array" || (kind === "mixed" && i % 2 === 0));
  return `${levels.map((asArray) => (asArray ? "[" : '{"k":')).join("")}${inner}${levels
    .reverse()
    .map((asArray) => (asArray ? "]" : "}"))
    .join("")}`;
}

/** A payload exactly `depth` levels deep (the payload object is level 1): around the limit, or far beyond it. */
const deepPayloadText = fc
  .tuple(
    fc.oneof(fc.integer({ min: limits.maxPayloadDepth - 3, max: limits.maxPayloadDepth + 3 }), fc.constantFrom(1_000, 200_000)),
    fc.constantFrom("array", "object", "mixed") as fc.Arbitrary<"array" | "object" | "mixed">,
  )
  .map(([depth, kind]) => `{"deep":${nested(depth - 1, "1", kind)}}`);

/** A payload serializing to within a few bytes of the limit, in one- to six-byte units. */
const sizedPayloadText = fc
  .tuple(
    fc.integer({ min: limits.maxPayloadBytes - 6, max: limits.maxPayloadBytes + 6 }),
    fc.constantFrom(["x", 1], ["é", 2], ["😀", 4], ["\n", 2], ["\u0001", 6], ['"', 2]) as fc.Arbitrary<[string, number]>,
    fc.integer({ min: 0, max: 5 }),
  )
  .map(([bytes, [unit, cost], count]) => JSON.stringify({ s: unit.repeat(count) + "x".repeat(bytes - '{"s":""}'.length - count * cost) }));

const goodName = fc.oneof(
  fc.constantFrom("contact.created", "invoice.paid", "commande.créée ✓", "注文.作成", "🚀.launch", "a", "a b"),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }),
);
/** Names around the 255-character limit, in characters of one or two UTF-16 units (or a zero-width one). */
const limitName = fc
  .tuple(fc.integer({ min: limits.maxEventNameLength - 2, max: limits.maxEventNameLength + 2 }), fc.constantFrom("e", "é", "😀", "\u200b"))
  .map(([n, unit]) => unit.repeat(n));

const nameText = fc.oneof(
  { weight: 3, arbitrary: goodName.map((s) => JSON.stringify(s)) },
  { weight: 3, arbitrary: stringText(hostileString) },
  { weight: 1, arbitrary: limitName.map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: valueText },
);
const resourceText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }).map((s) => JSON.stringify(s)) },
  { weight: 3, arbitrary: stringText(hostileString) },
  { weight: 1, arbitrary: fc.integer({ min: 254, max: 256 }).map((n) => JSON.stringify("r".repeat(n))) },
  { weight: 1, arbitrary: valueText },
);
/** Idempotency keys (fresh, see keyMark) around the 255-character limit and holding hostile characters. */
const idempotencyKeyText = fc.oneof(
  { weight: 4, arbitrary: hostileString.map((s) => JSON.stringify(keyMark + s)) },
  { weight: 1, arbitrary: fc.integer({ min: 253, max: 257 }).map((n) => JSON.stringify(keyMark + "k".repeat(n - keyMark.length))) },
  { weight: 1, arbitrary: fc.constantFrom('""', "null", "1", "[]", "{}", "true") },
);
const payloadText = fc.oneof(
  { weight: 4, arbitrary: objectText },
  { weight: 2, arbitrary: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }).map((d) => JSON.stringify(d)) },
  { weight: 1, arbitrary: deepPayloadText },
  { weight: 1, arbitrary: sizedPayloadText },
  { weight: 1, arbitrary: valueText },
);
const workspaceText = () =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .constantFrom(
          tenant.workspaceId,
          tenant.workspaceId.toUpperCase(),
          `urn:uuid:${tenant.workspaceId}`,
          `{${tenant.workspaceId}}`,
          tenant.workspaceId.replaceAll("-", ""),
          ` ${tenant.workspaceId}`,
          `${tenant.workspaceId}\u0000`,
          stranger.workspaceId,
          "not-a-uuid",
          "",
        )
        .map((s) => JSON.stringify(s)),
    },
    { weight: 1, arbitrary: fc.uuid().map((s) => JSON.stringify(s)) },
    { weight: 1, arbitrary: valueText },
  );

/** An object whose every field may be missing, wrong, hostile or fine, plus the odd unknown key. */
const hostileItemText = () =>
  fc
    .record({
      event: fc.option(nameText, { freq: 8, nil: undefined }),
      payload: fc.option(payloadText, { freq: 8, nil: undefined }),
      resource: fc.option(resourceText, { freq: 2, nil: undefined }),
      resource_id: fc.option(resourceText, { freq: 2, nil: undefined }),
      workspace: fc.option(workspaceText(), { freq: 2, nil: undefined }),
      idempotency_key: fc.option(idempotencyKeyText, { freq: 3, nil: undefined }),
      extra: fc.oneof(
        { weight: 6, arbitrary: fc.constant([] as Array<[string, string]>) },
        { weight: 1, arbitrary: fc.array(fc.tuple(keyText, valueText), { minLength: 1, maxLength: 2 }) },
      ),
      reversed: fc.boolean(),
    })
    .map(({ extra, reversed, ...fields }) => {
      const entries: Array<[string, string]> = Object.entries(fields).flatMap(([k, v]) => (v === undefined ? [] : [[`"${k}"`, v]]));
      entries.push(...extra);
      if (reversed) entries.reverse();
      return `{${entries.map(([k, v]) => `${k}:${v}`).join(",")}}`;
    });

/** Items meant to be accepted (the oracle still judges them: a generated string may hold U+0000). */
const validItemText = (credential: Credential) =>
  fc
    .record({
      event: goodName,
      payload: fc.dictionary(fc.string({ unit: "grapheme", maxLength: 8 }), fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" }), {
        maxKeys: 5,
      }),
      resource: fc.option(fc.string({ unit: "grapheme-ascii", maxLength: 20 }), { nil: undefined }),
      resource_id: fc.option(fc.string({ unit: "grapheme", maxLength: 20 }), { nil: undefined }),
      // Mostly the credential's own workspace (required with a machine token), written as it comes back or
      // upper-cased; now and then another organization's, or one that does not exist.
      workspace: fc.oneof(
        { weight: 6, arbitrary: fc.constant(credential === "machine" ? tenant.workspaceId : undefined) },
        { weight: 1, arbitrary: fc.constant(tenant.workspaceId.toUpperCase()) },
        { weight: 1, arbitrary: fc.oneof(fc.constant(stranger.workspaceId), fc.uuid()) },
      ),
    })
    .map((item) => JSON.stringify(item));

/** A fine item but for one thing PostgreSQL cannot store or JSON cannot represent, or one limit crossed. */
const poisonedItemText = (credential: Credential) => {
  const ws = credential === "machine" ? `,"workspace":"${tenant.workspaceId}"` : "";
  return fc
    .tuple(
      goodName,
      fc.constantFrom(
        ['"payload":{"s":"a\\u0000b"}', "payload"],
        ['"payload":{"k\\u0000":1}', "payload"],
        ['"payload":{"s":"\\ud800"}', "payload"],
        ['"payload":{"\\udfff":1}', "payload"],
        ['"payload":{"a":[{"b":"x\\uDC00y"}]}', "payload"],
        ['"payload":{"s":"\\ud83d\\ude00 \\ude00"}', "payload"],
        ['"payload":{"n":1e400}', "payload"],
        ['"payload":{"n":-1e400}', "payload"],
        ['"payload":{"a":[1,2,{"b":1e999}]}', "payload"],
        [`"payload":{"d":${nested(limits.maxPayloadDepth, "1", "array")}}`, "payload"],
        [`"payload":${JSON.stringify({ s: "x".repeat(limits.maxPayloadBytes - 7) })}`, "payload"],
        ['"payload":{},"resource":"r\\u0000"', "resource"],
        [`"payload":{},"idempotency_key":"${keyMark}\\u0000"`, "idempotency_key"],
        [`"payload":{},"idempotency_key":"${keyMark}\\ud800"`, "idempotency_key"],
        ['"payload":{},"resource_id":"\\ud800"', "resource_id"],
        ['"payload":{},"resource_id":"x","resource":"\\udbff\\udbff"', "resource"],
      ),
    )
    .map(([name, [rest]]) => `{"event":${JSON.stringify(name)},${rest}${ws}}`);
};

const anyItemText = (credential: Credential) =>
  fc.oneof(
    { weight: 3, arbitrary: validItemText(credential) },
    { weight: 3, arbitrary: hostileItemText() },
    { weight: 2, arbitrary: poisonedItemText(credential) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: valueText },
  );

const credential = fc.constantFrom("publishableKey", "machine") as fc.Arbitrary<Credential>;
const truncated = (texts: fc.Arbitrary<string>) =>
  fc.tuple(texts, fc.double({ min: 0, max: 1, noNaN: true })).map(([t, f]) => t.slice(0, Math.floor(t.length * f)));
const separator = fc.constantFrom(",", ", ", ",\n\t", " , ");
const batchText = (items: fc.Arbitrary<string[]>) => fc.tuple(items, separator).map(([texts, sep]) => `[${texts.join(sep)}]`);

// ---------------------------------------------------------------------------------------------------
// The properties.
// ---------------------------------------------------------------------------------------------------

describe("hostile bodies", () => {
  it("when anything is posted as one event, then the answer is what the oracle predicts and only an accepted event is stored", async () => {
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(
        credential.chain((cred) =>
          fc.tuple(
            fc.constant(cred),
            fc.oneof(
              { weight: 4, arbitrary: hostileItemText() },
              { weight: 2, arbitrary: validItemText(cred) },
              { weight: 2, arbitrary: poisonedItemText(cred) },
              { weight: 1, arbitrary: fc.json() },
              { weight: 1, arbitrary: valueText },
              { weight: 1, arbitrary: truncated(validItemText(cred)) },
              { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
              {
                weight: 1,
                arbitrary: fc.constantFrom(
                  "",
                  " ",
                  "\n\t",
                  "{",
                  "[",
                  "{}",
                  "[]",
                  "null",
                  "0",
                  '""',
                  "{,}",
                  "{'a':1}",
                  "NaN",
                  "[1,]",
                  "\u0000",
                ),
              },
            ),
            fc.constantFrom("", "", "", "\ufeff", " \r\n", "\ufeff\ufeff"),
          ),
        ),
        async ([cred, text, prefix]) => {
          outcomes.add((await sendAndCheck("single", prefix + text, cred)).prediction);
        },
      ),
      runs(150),
    );
    outcomes.expectReached("accepted", "ValidationError", "badRequest", "param:payload", "param:workspace");
  }, 60_000);

  it("when anything is posted as a batch, then records[i] answers item i as the oracle predicts and exactly the accepted items are stored once", async () => {
    const outcomes = new Outcomes();
    await fc.assert(
      fc.asyncProperty(
        credential.chain((cred) =>
          fc.tuple(
            fc.constant(cred),
            fc.oneof(
              { weight: 8, arbitrary: batchText(fc.array(anyItemText(cred), { minLength: 1, maxLength: 12 })) },
              {
                weight: 1,
                arbitrary: batchText(
                  fc.array(fc.oneof(validItemText(cred), poisonedItemText(cred)), {
                    minLength: limits.maxBatchItems - 3,
                    maxLength: limits.maxBatchItems + 3,
                  }),
                ),
              },
              {
                weight: 1,
                arbitrary: fc.oneof(fc.json(), valueText, truncated(batchText(fc.array(validItemText(cred), { maxLength: 4 })))),
              },
            ),
          ),
        ),
        async ([cred, text]) => {
          outcomes.add((await sendAndCheck("bulk", text, cred)).prediction);
        },
      ),
      runs(120),
    );
    outcomes.expectReached("accepted", "ValidationError", "Forbidden", "badRequest", "param:item", "param:idempotency_key");
  }, 60_000);

  it("when a batch mixes valid items with items PostgreSQL cannot store, then only those are rejected and every valid item is stored once", async () => {
    await fc.assert(
      fc.asyncProperty(
        credential.chain((cred) =>
          fc.tuple(fc.constant(cred), fc.array(fc.oneof(validItemText(cred), poisonedItemText(cred)), { minLength: 2, maxLength: 20 })),
        ),
        async ([cred, items]) => {
          const { accepted } = await sendAndCheck("bulk", `[${items.join(",")}]`, cred);
          const valid = items.filter((text) => predictItem(JSON.parse(text), cred, "item").type === "event");
          expect(accepted).toHaveLength(valid.length);
        },
      ),
      runs(60),
    );
  }, 60_000);

  it("when strings near the 255 / 64 KiB / 1 MiB limits are sent, then each limit holds to the byte", async () => {
    const near = (limit: number) => fc.integer({ min: limit - 4, max: limit + 4 });
    await fc.assert(
      fc.asyncProperty(
        credential,
        fc.oneof(
          // An event name (255 characters and far more) making the body about 1 MiB: 413 above it, else a per-item 400.
          fc
            .tuple(near(maxBodyBytes), fc.constantFrom("e", "é", "😀"))
            .map(([bytes, unit]) => ({ endpoint: "single" as const, bytes, unit })),
          // A payload exactly around 64 KiB, alone or in a batch of valid items.
          sizedPayloadText.map((payload) => ({ endpoint: "single" as const, text: `{"event":"sized","payload":${payload}}` })),
          fc.tuple(sizedPayloadText, fc.nat(3)).map(([payload, before]) => ({
            endpoint: "bulk" as const,
            text: `[${[
              ...Array.from({ length: before }, () => '{"event":"small","payload":{}}'),
              `{"event":"sized","payload":${payload}}`,
              '{"event":"after","payload":{}}',
            ].join(",")}]`,
          })),
        ),
        async (cred, sized) => {
          const workspace = cred === "machine" ? `,"workspace":"${tenant.workspaceId}"` : "";
          const text =
            "text" in sized
              ? sized.text.replaceAll('"payload":', `${workspace.slice(1)}${workspace && ","}"payload":`)
              : sizedBody(sized, workspace);
          if ("bytes" in sized) expect(Buffer.byteLength(text)).toBe(sized.bytes);
          await sendAndCheck(sized.endpoint, text, cred);
        },
      ),
      runs(24),
    );
  }, 60_000);

  it("when a batch of valid items is just under or over 1 MiB, then it is stored whole or answered 413 with nothing stored", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: maxBodyBytes - 3, max: maxBodyBytes + 3 }), fc.boolean(), async (bytes, gzip) => {
        const text = megabyteBatch(bytes);
        expect(Buffer.byteLength(text)).toBe(bytes);
        if (!gzip) {
          await sendAndCheck("bulk", text, "publishableKey");
          return;
        }
        // Compressed, the limit applies to the inflated body.
        const before = await countEvents();
        const answer = await send(paths.bulk, gzipSync(text), {
          ...json,
          "Content-Encoding": "gzip",
          ...(await credentialHeaders("publishableKey")),
        });
        const accepted = expectPredicted(
          answer,
          predictRequest("bulk", Buffer.from(text), "publishableKey"),
          "publishableKey",
          `gzip ${bytes}`,
        );
        await expectStored(before, accepted, "publishableKey");
      }),
      runs(6),
    );
  }, 60_000);
});

/** `{"event":"<unit…>","payload":{}<extra>}` of exactly `bytes` UTF-8 bytes (padded with spaces). */
function sizedBody({ bytes, unit }: { bytes: number; unit: string }, extra: string): string {
  const room = bytes - `{"event":"","payload":{}${extra}}`.length;
  const unitBytes = Buffer.byteLength(unit);
  const count = Math.floor(room / unitBytes);
  return `{"event":"${unit.repeat(count)}","payload":{}${extra}}${" ".repeat(room - count * unitBytes)}`;
}

/** Seventeen valid items with ~60 KiB payloads, padded with whitespace to exactly `bytes`. */
function megabyteBatch(bytes: number): string {
  const items = Array.from({ length: 17 }, (_, i) => JSON.stringify({ event: "big", payload: { i, s: "y".repeat(61_000) } }));
  const text = `[${items.join(",")}]`;
  return text + " ".repeat(bytes - Buffer.byteLength(text));
}

// ---------------------------------------------------------------------------------------------------
// Transport: content types, charsets, encodings, BOMs, bytes that are not UTF-8.
// ---------------------------------------------------------------------------------------------------

type ContentTypeKind = "json" | "unsupportedCharset" | "notJson";
const contentTypes: Array<[string | undefined, ContentTypeKind]> = [
  ["application/json", "json"],
  ["application/json; charset=utf-8", "json"],
  ["APPLICATION/JSON;charset=UTF-8", "json"],
  ["application/json; charset=latin1", "unsupportedCharset"],
  ["application/json; charset=iso-8859-1", "unsupportedCharset"],
  ["application/json; charset=nope", "unsupportedCharset"],
  ["text/plain", "notJson"],
  ["text/json", "notJson"],
  ["application/x-www-form-urlencoded", "notJson"],
  ["multipart/form-data; boundary=x", "notJson"],
  ["application/xml", "notJson"],
  ["application/vnd.api+json", "notJson"],
  [undefined, "notJson"],
];

type Encoding = "identity" | "gzip" | "deflate" | "br" | "corrupt gzip" | "truncated gzip" | "corrupt deflate" | "corrupt br" | "compress";
const encodings: Encoding[] = [
  "identity",
  "gzip",
  "deflate",
  "br",
  "corrupt gzip",
  "truncated gzip",
  "corrupt deflate",
  "corrupt br",
  "compress",
];

function encode(body: Buffer, encoding: Encoding): { bytes: Buffer; header?: string; readable: boolean } {
  switch (encoding) {
    case "identity":
      return { bytes: body, readable: true };
    case "gzip":
      return { bytes: gzipSync(body), header: "gzip", readable: true };
    case "deflate":
      return { bytes: deflateSync(body), header: "deflate", readable: true };
    case "br":
      return { bytes: brotliCompressSync(body), header: "br", readable: true };
    case "corrupt gzip":
      return { bytes: Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), body]), header: "gzip", readable: false };
    case "truncated gzip": {
      const gz = gzipSync(body);
      return { bytes: gz.subarray(0, Math.max(1, gz.length - 9)), header: "gzip", readable: false };
    }
    case "corrupt deflate":
      return { bytes: Buffer.concat([Buffer.from([0x78, 0xff]), body]), header: "deflate", readable: false };
    case "corrupt br":
      return { bytes: Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), body]), header: "br", readable: false };
    case "compress":
      return { bytes: body, header: "compress", readable: false };
  }
}

/**
 * What the server answers a body it cannot decode. A truncated gzip stream still inflates up to where it was
 * cut, and the server counts those bytes against its limit as they come: past the limit it answers 413
 * before it meets the truncation. Anything else is a 400.
 */
function predictUnreadable(bytes: Buffer, encoding: Encoding): RequestPrediction {
  if (encoding === "truncated gzip") {
    const inflated = gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    if (inflated.length > maxBodyBytes) return { kind: "tooLarge" };
  }
  return { kind: "badRequest" };
}

/** Byte sequences that are not UTF-8: stray continuation bytes, truncated sequences, overlong NUL, CESU surrogates. */
const invalidUtf8 = fc.constantFrom(
  [0xff],
  [0x80],
  [0xc3],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xfe, 0xfe, 0xff],
);

describe("hostile transport", () => {
  it("when content types, charsets, encodings and BOMs vary, then a readable JSON body is judged as usual and anything else is a 400", async () => {
    await fc.assert(
      fc.asyncProperty(
        credential.chain((cred) =>
          fc.record({
            cred: fc.constant(cred),
            endpoint: fc.constantFrom("single", "bulk") as fc.Arbitrary<Endpoint>,
            contentType: fc.constantFrom(...contentTypes),
            encoding: fc.constantFrom(...encodings),
            bom: fc.boolean(),
            text: fc.oneof(anyItemText(cred), batchText(fc.array(anyItemText(cred), { minLength: 1, maxLength: 4 }))),
          }),
        ),
        async ({ cred, endpoint, contentType: [contentType, kind], encoding, bom, text }) => {
          const decoded = Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, "utf8")]);
          const { bytes, header, readable } = encode(decoded, encoding);
          const headers: Record<string, string> = { ...(await credentialHeaders(cred)) };
          if (contentType !== undefined) headers["Content-Type"] = contentType;
          if (header !== undefined) headers["Content-Encoding"] = header;
          const before = await countEvents();
          const answer = await send(paths[endpoint], bytes, headers);
          const context = `${cred} ${endpoint} ${contentType} ${encoding} bom=${bom} ${excerpt(text)}`;
          const prediction: RequestPrediction =
            kind !== "json"
              ? { kind: "badRequest" }
              : readable
                ? predictRequest(endpoint, decoded, cred)
                : predictUnreadable(bytes, encoding);
          const accepted = expectPredicted(answer, prediction, cred, context);
          await expectStored(before, accepted, cred);
        },
      ),
      runs(100),
    );
  }, 60_000);

  it("when a string holds bytes that are not UTF-8, then they arrive as U+FFFD and never as U+0000 or a surrogate", async () => {
    await fc.assert(
      fc.asyncProperty(credential, invalidUtf8, fc.constantFrom("event", "payload", "resource"), async (cred, bad, where) => {
        const raw = Buffer.from(bad);
        const ws = cred === "machine" ? `,"workspace":"${tenant.workspaceId}"` : "";
        const parts =
          where === "event"
            ? ['{"event":"a', '","payload":{}', `${ws}}`]
            : where === "payload"
              ? ['{"event":"a","payload":{"s":"x', `"}${ws}}`]
              : ['{"event":"a","payload":{},"resource":"r', `"${ws}}`];
        const body = Buffer.concat([Buffer.from(parts[0] as string), raw, ...parts.slice(1).map((p) => Buffer.from(p))]);
        const before = await countEvents();
        const answer = await send(paths.single, body, { ...json, ...(await credentialHeaders(cred)) });
        const prediction = predictRequest("single", body, cred);
        const accepted = expectPredicted(answer, prediction, cred, `${cred} ${where} ${raw.toString("hex")}`);
        await expectStored(before, accepted, cred);
        for (const { item } of accepted) expect(JSON.stringify(item)).toContain("\ufffd");
      }),
      runs(30),
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------------
// Headers and methods.
// ---------------------------------------------------------------------------------------------------

describe("hostile headers and methods", () => {
  it("when credentials are duplicated, mangled, oversized or combined, then only an exact credential is accepted", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          "exact key",
          "key twice",
          "key with a trailing space",
          "key lower-cased",
          "key plus junk",
          "junk key",
          "very long key",
          "bearer and key",
          "bearer twice",
          "lower-case bearer",
          "bearer without token",
          "bearer with two spaces",
          "basic",
          "empty key",
        ),
        fc.string({ unit: "binary-ascii", maxLength: 64 }),
        fc.constantFrom("single", "bulk") as fc.Arbitrary<Endpoint>,
        async (mutation, junk, endpoint) => {
          const key = tenant.publishableKey;
          const token = (await bearer(tenant.machine)).Authorization;
          const printableJunk = junk.replaceAll(/[^\x21-\x7e]/g, "x");
          const headers = new Headers(json);
          let expected: Credential | undefined;
          switch (mutation) {
            case "exact key":
              headers.set("X-Meshes-Publishable-Key", key);
              expected = "publishableKey";
              break;
            case "key twice":
              headers.append("X-Meshes-Publishable-Key", key);
              headers.append("X-Meshes-Publishable-Key", key);
              break;
            case "key with a trailing space":
              // Header values are trimmed by HTTP itself: this is still the exact key.
              headers.set("X-Meshes-Publishable-Key", `${key} `);
              expected = "publishableKey";
              break;
            case "key lower-cased":
              headers.set("X-Meshes-Publishable-Key", key.toLowerCase());
              if (key.toLowerCase() === key) expected = "publishableKey";
              break;
            case "key plus junk":
              headers.set("X-Meshes-Publishable-Key", `${key}${printableJunk || "x"}`);
              break;
            case "junk key":
              headers.set("X-Meshes-Publishable-Key", `mesh_pub_${printableJunk}_${printableJunk}_${printableJunk}`);
              break;
            case "very long key":
              headers.set("X-Meshes-Publishable-Key", `${key}${"a".repeat(12_000)}`);
              break;
            case "bearer and key":
              headers.set("Authorization", token);
              headers.set("X-Meshes-Publishable-Key", `${key}x`);
              expected = "machine";
              break;
            case "bearer twice":
              headers.append("Authorization", token);
              headers.append("Authorization", token);
              break;
            case "lower-case bearer":
              headers.set("Authorization", token.replace("Bearer", "bearer"));
              expected = "machine";
              break;
            case "bearer without token":
              headers.set("Authorization", "Bearer");
              break;
            case "bearer with two spaces":
              headers.set("Authorization", token.replace(" ", "  "));
              break;
            case "basic":
              headers.set("Authorization", `Basic ${Buffer.from(`${printableJunk}:x`).toString("base64")}`);
              break;
            case "empty key":
              headers.set("X-Meshes-Publishable-Key", "");
              break;
          }
          const item = { event: "header.test", payload: { mutation }, workspace: tenant.workspaceId };
          const text = endpoint === "single" ? JSON.stringify(item) : JSON.stringify([item]);
          const before = await countEvents();
          const answer = await send(paths[endpoint], Buffer.from(text), Object.fromEntries(headers));
          const context = `${mutation} (${printableJunk}) ${endpoint}`;
          if (expected === undefined) {
            expectNoServerError(answer, context);
            expect(answer.status, context).toBe(401);
            expect(expectEnvelope(answer).error.name).toBe("Unauthorized");
            await expectStored(before, [], "publishableKey");
            return;
          }
          const accepted = expectPredicted(answer, predictRequest(endpoint, Buffer.from(text), expected), expected, context);
          await expectStored(before, accepted, expected);
        },
      ),
      runs(60),
    );
  }, 60_000);

  it("when an ingestion path is called with a method it does not support, then it answers a 4xx in the envelope and stores nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        // OPTIONS is supported: the ingestion paths answer CORS preflights.
        fc.constantFrom("GET", "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "PROPFIND", "PURGE", "LOCK", "SEARCH"),
        fc.constantFrom(
          [paths.single, paths.single],
          [paths.bulk, paths.bulk],
          ["/api/v1/events/", paths.single],
          ["/api/v1/events/bulk/", paths.bulk],
          ["/API/V1/EVENTS", paths.single],
          ["/api/v1/events//bulk", paths.bulk],
        ),
        credential,
        async (method, [path, canonical], cred) => {
          // Only methods the spec leaves undocumented there (HEAD goes with GET).
          const documented = documentedMethods[canonical] ?? new Set();
          fc.pre(!documented.has(method) && !(method === "HEAD" && documented.has("GET")));
          const before = await countEvents();
          const body = method === "GET" || method === "HEAD" || method === "TRACE" ? undefined : '{"event":"method.test","payload":{}}';
          const answer = await rawHttp(method, path, { ...json, ...(await credentialHeaders(cred)) }, body);
          const context = `${method} ${path}`;
          expectNoServerError(answer, context);
          expect(answer.status, context).toBeGreaterThanOrEqual(400);
          if (method !== "HEAD") expectEnvelope(answer);
          await expectStored(before, [], cred);
        },
      ),
      runs(40),
    );
  }, 60_000);
});

/** node:http, which (unlike fetch) sends any method token. */
async function rawHttp(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(body)) };
    const req = httpRequest(
      `${server.baseUrl}${path}`,
      { method, headers: { ...headers, ...length }, timeout: requestTimeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve(toAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"))));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------------
// Framing that lies: raw sockets, each bounded by a timeout.
// ---------------------------------------------------------------------------------------------------

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Writes `chunks` to a fresh connection (pausing `pauseMs` between them), optionally half-closes, and
 * collects every response until the server closes or `timeoutMs` passes. Never hangs.
 */
async function rawExchange(
  chunks: ReadonlyArray<string | Buffer>,
  options: { pauseMs?: number; endAfterWrite?: boolean; timeoutMs?: number } = {},
): Promise<{ responses: RawResponse[]; closedByServer: boolean }> {
  const { pauseMs = 0, endAfterWrite = false, timeoutMs = 1_500 } = options;
  const { port } = new URL(server.baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1");
    const received: Buffer[] = [];
    let closedByServer = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses: parseResponses(Buffer.concat(received)), closedByServer });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk) => received.push(chunk));
    socket.on("end", () => {
      closedByServer = true;
      finish();
    });
    socket.on("close", finish);
    socket.on("error", finish);
    socket.on("connect", async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0 && pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        if (socket.destroyed) return;
        socket.write(chunk);
      }
      if (endAfterWrite) socket.end();
    });
  });
}

function parseResponses(data: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = data;
  while (rest.length > 0) {
    const headerEnd = rest.indexOf("\r\n\r\n");
    if (headerEnd < 0) break;
    const [statusLine = "", ...lines] = rest.subarray(0, headerEnd).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    const bodyStart = headerEnd + 4;
    responses.push({
      status: Number(statusLine.split(" ")[1]),
      headers,
      body: rest.subarray(bodyStart, bodyStart + length).toString("utf8"),
    });
    rest = rest.subarray(bodyStart + length);
  }
  return responses;
}

interface Framing {
  readonly chunks: Array<string | Buffer>;
  readonly endAfterWrite?: boolean;
  readonly pauseMs?: number;
}

describe("hostile framing", () => {
  const valid = () => JSON.stringify({ event: "raw.framing", payload: { n: 1 } });
  const head = (extra: string[], method = "POST", path = "/api/v1/events") =>
    [
      `${method} ${path} HTTP/1.1`,
      "Host: 127.0.0.1",
      "Connection: close",
      "Content-Type: application/json",
      `X-Meshes-Publishable-Key: ${tenant.publishableKey}`,
      ...extra,
      "",
      "",
    ].join("\r\n");

  /**
   * `status`: the first answer (undefined: none is due, as the client gave up before sending what it
   * promised). `bare`: the connection may close without an answer body. Bytes Node's HTTP parser refuses
   * before Express runs are answered in the envelope too (http/hardenServer.ts).
   */
  it.each<[string, string, 201 | 400 | 431 | undefined, boolean, () => Framing]>([
    [
      "a chunked body arrives whole",
      "201 and stores the event once",
      201,
      false,
      () => ({ chunks: [head(["Transfer-Encoding: chunked"]), `${valid().length.toString(16)}\r\n${valid()}\r\n0\r\n\r\n`] }),
    ],
    [
      "the body arrives in pieces with pauses",
      "201 and stores the event once",
      201,
      false,
      () => ({ chunks: [head([`Content-Length: ${valid().length}`]), valid().slice(0, 10), valid().slice(10)], pauseMs: 100 }),
    ],
    [
      "the Content-Length is smaller than the body",
      "400 and stores nothing",
      400,
      true,
      () => ({ chunks: [head([`Content-Length: ${valid().length - 4}`]) + valid()] }),
    ],
    [
      "the Content-Length is larger than the body and the client stops sending",
      "nothing or a 400 and stores nothing",
      undefined,
      true,
      () => ({ chunks: [head([`Content-Length: ${valid().length + 100}`]) + valid()], endAfterWrite: true }),
    ],
    [
      "a chunked body is cut off mid-chunk and the client stops sending",
      "nothing or a 400 and stores nothing",
      undefined,
      true,
      () => ({ chunks: [head(["Transfer-Encoding: chunked"]), `ff\r\n${valid()}`], endAfterWrite: true }),
    ],
    [
      "two different Content-Length headers are sent",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["Content-Length: 5", "Content-Length: 6"]) + valid()] }),
    ],
    [
      "both Content-Length and Transfer-Encoding are sent",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head([`Content-Length: ${valid().length}`, "Transfer-Encoding: chunked"]) + valid()] }),
    ],
    [
      "the chunk size is not hexadecimal",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["Transfer-Encoding: chunked"]), `zz\r\n${valid()}\r\n0\r\n\r\n`] }),
    ],
    [
      "the Content-Length is not a number",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["Content-Length: abc"]) + valid()] }),
    ],
    [
      "the Content-Length is negative",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["Content-Length: -1"]) + valid()] }),
    ],
    [
      "a header value holds a NUL byte",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head(["X-Odd: a\u0000b", `Content-Length: ${valid().length}`]) + valid()] }),
    ],
    [
      "the method is not an HTTP method",
      "400 in the envelope and stores nothing",
      400,
      false,
      () => ({ chunks: [head([`Content-Length: ${valid().length}`], "FROB") + valid()] }),
    ],
    [
      "the headers are over 16 KiB",
      "431 in the envelope and stores nothing",
      431,
      false,
      () => ({ chunks: [head([`X-Big: ${"a".repeat(20_000)}`, `Content-Length: ${valid().length}`]) + valid()] }),
    ],
  ])("when %s, then it answers %s", async (name, _answer, status, bare, build) => {
    const before = await countEvents();
    const { chunks, ...options } = build();
    const { responses } = await rawExchange(chunks, options);
    const answers = responses.map((r) => toAnswer(r.status, r.body));
    for (const answer of answers) {
      expectNoServerError(answer, name);
      if (answer.status >= 400 && (answer.text !== "" || !bare)) expectEnvelope(answer);
    }
    if (status === undefined) {
      for (const answer of answers) expect(answer.status, JSON.stringify(responses)).toBe(400);
    } else {
      expect(answers[0]?.status, JSON.stringify(responses)).toBe(status);
    }
    if (status === 201) expect(answers[0]?.body).toMatchObject({ event: { event: "raw.framing" } });
    expect((await countEvents()) - before).toBe(status === 201 ? 1 : 0);
  });

  it("when every framing attack is over, then the server still answers a normal request", async () => {
    await sendAndCheck("single", valid(), "publishableKey");
  });
});
