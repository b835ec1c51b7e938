import { STATUS_CODES } from "node:http";
import { gunzipSync, constants as zlibConstants } from "node:zlib";
import { expect } from "vitest";
import type { Tenant } from "./fixtures.js";
import { testConfig } from "./testServer.js";

// What a correct answer to a hostile ingestion request is, restated from scratch on the value the server
// parses (never from the server's code): a body is at most 1 MiB (else 413) of JSON (else 400); POST /events
// takes one event, POST /events/bulk an array of 1 to 100 (else 400). An event is an object with a printable
// `event` of 1 to 255 characters, an object `payload` of at most 64 KiB and bounded depth, optional `resource`,
// `resource_id` (at most 255 characters) and `idempotency_key` (1 to 255), and a `workspace` that is a UUID:
// required with a machine token, and the caller's own (else 403). Text PostgreSQL cannot store (U+0000, an
// unpaired surrogate) and numbers JSON cannot represent are a validation error of their field. Every error is
// the envelope `{message, error: {name, message, data?: [{param, msg}]}}`; a batch answers 201 when every
// item was accepted, else 207, with `records[i]` answering item `i`.

const { limits, maxBodyBytes } = testConfig;

export type Credential = "publishableKey" | "machine";
export type Endpoint = "single" | "bulk";
export const paths: Record<Endpoint, string> = { single: "/api/v1/events", bulk: "/api/v1/events/bulk" };

export type ItemPrediction =
  | { readonly type: "event" }
  | { readonly type: "error"; readonly name: "ValidationError"; readonly params: ReadonlySet<string> }
  | { readonly type: "error"; readonly name: "Forbidden" };

export type RequestPrediction =
  | { readonly kind: "tooLarge" }
  | { readonly kind: "badRequest" }
  | { readonly kind: "single"; readonly item: unknown; readonly verdict: ItemPrediction }
  | { readonly kind: "bulk"; readonly items: readonly unknown[]; readonly verdicts: readonly ItemPrediction[] };

/** An HTTP answer: its status, its text, and the text parsed as JSON (undefined when it is not). */
export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: unknown;
}

export interface ErrorEnvelope {
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

/** An item the server accepted, with the id it answered. */
export interface Accepted {
  readonly id: string;
  readonly item: Record<string, unknown>;
}

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
export function unstorable(s: string): boolean {
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

export function toAnswer(status: number, text: string): Answer {
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, text, body };
}

export const excerpt = (text: string) => (text.length > 400 ? `${text.slice(0, 400)}… (${text.length} chars)` : text);

/** For failure messages: a value too deep for JSON.stringify's recursion is described instead. */
export function show(value: unknown): string {
  try {
    return excerpt(JSON.stringify(value) ?? String(value));
  } catch {
    return "(too deep to print)";
  }
}

export function expectNoServerError(answer: Answer, context: string): void {
  expect(answer.status, `never a 5xx; got ${answer.text.slice(0, 300)} for ${context}`).toBeLessThan(500);
}

export function expectEnvelope(answer: Answer): ErrorEnvelope {
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

/**
 * What the server answers a body it cannot decode. A truncated gzip stream still inflates up to where it was
 * cut, and the server counts those bytes against its limit as they come: past the limit it answers 413
 * before it meets the truncation. Anything else is a 400.
 */
export function predictUnreadable(bytes: Buffer, encoding: string): RequestPrediction {
  if (encoding === "truncated gzip") {
    const inflated = gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    if (inflated.length > maxBodyBytes) return { kind: "tooLarge" };
  }
  return { kind: "badRequest" };
}

/** The oracle for one tenant: which workspace is its own, and the fields EventInput declares (read from the spec). */
export interface IngestionOracle {
  readonly predictItem: (item: unknown, credential: Credential, root: string) => ItemPrediction;
  readonly predictRequest: (endpoint: Endpoint, decodedBody: Uint8Array, credential: Credential) => RequestPrediction;
  /** Checks an answer against the prediction; returns the items it accepted, with their ids. */
  readonly expectPredicted: (answer: Answer, prediction: RequestPrediction, credential: Credential, context: string) => Accepted[];
}

export function ingestionOracle(tenant: Tenant, eventFields: ReadonlySet<string>): IngestionOracle {
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

  function predictRequest(endpoint: Endpoint, decodedBody: Uint8Array, credential: Credential): RequestPrediction {
    if (decodedBody.length > maxBodyBytes) return { kind: "tooLarge" };
    const parsed = parseAsServer(decodedBody);
    if (parsed === undefined) return { kind: "badRequest" };
    if (endpoint === "single") return { kind: "single", item: parsed.value, verdict: predictItem(parsed.value, credential, "body") };
    const items = parsed.value;
    if (!Array.isArray(items) || items.length < 1 || items.length > limits.maxBatchItems) return { kind: "badRequest" };
    return { kind: "bulk", items, verdicts: items.map((item) => predictItem(item, credential, "item")) };
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

  return { predictItem, predictRequest, expectPredicted };
}
