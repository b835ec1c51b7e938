import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { type ErrorDetail, type ItemError, validationError } from "./itemError.js";
import type { IngestLimits } from "./limits.js";

/** An event input that passed every check, with its payload already serialized for storage. */
export interface ValidEventInput {
  readonly event: string;
  readonly payload: Record<string, unknown>;
  readonly idempotency_key?: string;
  readonly resource?: string;
  readonly resource_id?: string;
  readonly workspace?: string;
  /** `JSON.stringify(payload)`: computed once here, measured against the limit and reused by the writer. */
  readonly payloadJson: string;
}

export type ItemVerdict = { readonly ok: true; readonly value: ValidEventInput } | { readonly ok: false; readonly error: ItemError };

export type ValidateEventInput = (item: unknown, root?: string) => ItemVerdict;

/*
 * PostgreSQL refuses U+0000 in text and jsonb, and refuses unpaired UTF-16 surrogates in jsonb
 * (its text columns would silently store U+FFFD instead). JSON allows both, so they are item errors.
 * JSON.stringify writes exactly these as \u escapes (paired surrogates stay raw), so one scan of the
 * serialized payload finds them; the look-behind skips escapes that are really an escaped backslash.
 */
const unstorableEscape = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly the character PostgreSQL refuses.
const unstorableChar = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * `format: uuid` as PostgreSQL's uuid type reads it. ajv-formats' uuid also accepts a `urn:uuid:` prefix,
 * which PostgreSQL refuses: a machine token naming such a workspace failed its whole request with a 500.
 */
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Compiles the spec's own `EventInput` schema into a per-item validator, and adds the checks a schema
 * cannot express: serialized payload size, nesting depth, and strings PostgreSQL cannot store.
 * The schema is passed in (rather than read here) so that this package stays free of I/O.
 */
export function createEventInputValidator(eventInputSchema: object, limits: IngestLimits): ValidateEventInput {
  const ajv = new Ajv2020({ allErrors: true, strict: false, unicodeRegExp: true });
  ajv.addFormat("uuid", uuidPattern);
  const schema = withEventNameLimit(eventInputSchema, limits.maxEventNameLength);
  const validateSchema = ajv.compile(schema);

  return function validateEventInput(item, root = "item") {
    if (!validateSchema(item)) {
      return { ok: false, error: validationError(toDetails(validateSchema.errors ?? [], root)) };
    }
    const input = item as Omit<ValidEventInput, "payloadJson">;
    const details: ErrorDetail[] = [];
    for (const field of ["event", "resource", "resource_id", "idempotency_key"] as const) {
      const value = input[field];
      if (value !== undefined && unstorableChar.test(value)) {
        details.push({ param: field, msg: "must not contain U+0000 or unpaired surrogates" });
      }
    }
    const unserializable = payloadStructureError(input.payload, limits.maxPayloadDepth);
    if (unserializable !== undefined) {
      details.push({ param: "payload", msg: unserializable });
      return { ok: false, error: validationError(details) };
    }
    const payloadJson = JSON.stringify(input.payload);
    // The pattern needs a "\u" escape; most payloads have none, and this check is a fraction of the scan.
    if (payloadJson.includes("\\u") && unstorableEscape.test(payloadJson)) {
      details.push({ param: "payload", msg: "must not contain U+0000 or unpaired surrogates in any key or string" });
    }
    const bytes = Buffer.byteLength(payloadJson, "utf8");
    if (bytes > limits.maxPayloadBytes) {
      details.push({ param: "payload", msg: `must serialize to at most ${limits.maxPayloadBytes} bytes (got ${bytes})` });
    }
    if (details.length > 0) return { ok: false, error: validationError(details) };
    // Built field by field rather than spread from the input: a copy per item, and the schema already
    // refused any other property. A uuid's case carries no meaning; PostgreSQL answers the lower-case
    // form, so that is the one compared.
    return {
      ok: true,
      value: {
        event: input.event,
        payload: input.payload,
        idempotency_key: input.idempotency_key,
        resource: input.resource,
        resource_id: input.resource_id,
        workspace: input.workspace?.toLowerCase(),
        payloadJson,
      },
    };
  };
}

function withEventNameLimit(schema: object, maxLength: number): object {
  const copy = structuredClone(schema) as { properties?: { event?: { maxLength?: number } } };
  if (copy.properties?.event) copy.properties.event.maxLength = maxLength;
  return copy;
}

/**
 * What keeps a payload from being serialized faithfully, if anything: nesting deeper than `maxDepth`, or a
 * number JSON.parse overflowed to ±Infinity (`1e400`), which JSON.stringify would silently store as null.
 * Iterative, so that a hostile nesting depth cannot overflow the stack; stops at the first offence.
 */
function payloadStructureError(value: unknown, maxDepth: number): string | undefined {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (node === null || typeof node !== "object") continue;
    if (depth > maxDepth) return `must not nest deeper than ${maxDepth} levels`;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "number" && !Number.isFinite(child))
        return "must not contain numbers beyond the range of a double (such as 1e400)";
      if (child !== null && typeof child === "object") stack.push({ node: child, depth: depth + 1 });
    }
  }
  return undefined;
}

function toDetails(errors: readonly ErrorObject[], root: string): ErrorDetail[] {
  return errors.map((e) => {
    const path = e.instancePath.split("/").slice(1).map(unescapePointer);
    if (e.keyword === "required") path.push(String(e.params.missingProperty));
    if (e.keyword === "additionalProperties") path.push(String(e.params.additionalProperty));
    const param = path.length === 0 ? root : path.join(".");
    const msg = e.keyword === "additionalProperties" ? "is not a known property" : (e.message ?? "is invalid");
    return { param, msg };
  });
}

function unescapePointer(segment: string): string {
  return segment.replaceAll("~1", "/").replaceAll("~0", "~");
}
