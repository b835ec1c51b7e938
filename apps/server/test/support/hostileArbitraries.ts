import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import type { Credential } from "./ingestionOracle.js";
import { testConfig } from "./testServer.js";

// Generators (fast-check arbitraries) of hostile ingestion requests. Everything is generated as JSON text, so
// that duplicate keys, `__proto__`, escapes the serializer would never write and numbers JavaScript cannot
// hold can all be sent; the oracle judges what JSON.parse makes of the text, as the server does.

const { limits } = testConfig;

/** The caller's own workspace and another organization's, which items name (or mangle). */
export interface Workspaces {
  readonly own: string;
  readonly foreign: string;
}

/** Stands for a fresh idempotency-key prefix in generated text: keys never repeat, so none is a duplicate. */
export const keyMark = "KEYMARK";
let keysIssued = 0;
export const withFreshKeys = (text: string) => text.replaceAll(keyMark, () => (keysIssued++).toString(36).padStart(keyMark.length, "0"));

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

export const { value: valueText, object: objectText } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
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
export function nested(depth: number, inner: string, kind: "array" | "object" | "mixed"): string {
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
export const sizedPayloadText = fc
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
const workspaceText = (workspaces: Workspaces) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .constantFrom(
          workspaces.own,
          workspaces.own.toUpperCase(),
          `urn:uuid:${workspaces.own}`,
          `{${workspaces.own}}`,
          workspaces.own.replaceAll("-", ""),
          ` ${workspaces.own}`,
          `${workspaces.own}\u0000`,
          workspaces.foreign,
          "not-a-uuid",
          "",
        )
        .map((s) => JSON.stringify(s)),
    },
    { weight: 1, arbitrary: fc.uuid().map((s) => JSON.stringify(s)) },
    { weight: 1, arbitrary: valueText },
  );

/** An object whose every field may be missing, wrong, hostile or fine, plus the odd unknown key. */
export const hostileItemText = (workspaces: Workspaces) =>
  fc
    .record({
      event: fc.option(nameText, { freq: 8, nil: undefined }),
      payload: fc.option(payloadText, { freq: 8, nil: undefined }),
      resource: fc.option(resourceText, { freq: 2, nil: undefined }),
      resource_id: fc.option(resourceText, { freq: 2, nil: undefined }),
      workspace: fc.option(workspaceText(workspaces), { freq: 2, nil: undefined }),
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
export const validItemText = (workspaces: Workspaces, credential: Credential) =>
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
        { weight: 6, arbitrary: fc.constant(credential === "machine" ? workspaces.own : undefined) },
        { weight: 1, arbitrary: fc.constant(workspaces.own.toUpperCase()) },
        { weight: 1, arbitrary: fc.oneof(fc.constant(workspaces.foreign), fc.uuid()) },
      ),
    })
    .map((item) => JSON.stringify(item));

/** A fine item but for one thing PostgreSQL cannot store or JSON cannot represent, or one limit crossed. */
export const poisonedItemText = (workspaces: Workspaces, credential: Credential) => {
  const ws = credential === "machine" ? `,"workspace":"${workspaces.own}"` : "";
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

export const anyItemText = (workspaces: Workspaces, credential: Credential) =>
  fc.oneof(
    { weight: 3, arbitrary: validItemText(workspaces, credential) },
    { weight: 3, arbitrary: hostileItemText(workspaces) },
    { weight: 2, arbitrary: poisonedItemText(workspaces, credential) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: valueText },
  );

export const credential = fc.constantFrom("publishableKey", "machine") as fc.Arbitrary<Credential>;
export const truncated = (texts: fc.Arbitrary<string>) =>
  fc.tuple(texts, fc.double({ min: 0, max: 1, noNaN: true })).map(([t, f]) => t.slice(0, Math.floor(t.length * f)));
const separator = fc.constantFrom(",", ", ", ",\n\t", " , ");
export const batchText = (items: fc.Arbitrary<string[]>) => fc.tuple(items, separator).map(([texts, sep]) => `[${texts.join(sep)}]`);

/** `{"event":"<unit…>","payload":{}<extra>}` of exactly `bytes` UTF-8 bytes (padded with spaces). */
export function sizedBody({ bytes, unit }: { bytes: number; unit: string }, extra: string): string {
  const room = bytes - `{"event":"","payload":{}${extra}}`.length;
  const unitBytes = Buffer.byteLength(unit);
  const count = Math.floor(room / unitBytes);
  return `{"event":"${unit.repeat(count)}","payload":{}${extra}}${" ".repeat(room - count * unitBytes)}`;
}

/** Seventeen valid items with ~60 KiB payloads, padded with whitespace to exactly `bytes`. */
export function megabyteBatch(bytes: number): string {
  const items = Array.from({ length: 17 }, (_, i) => JSON.stringify({ event: "big", payload: { i, s: "y".repeat(61_000) } }));
  const text = `[${items.join(",")}]`;
  return text + " ".repeat(bytes - Buffer.byteLength(text));
}

// Transport: content types, charsets, encodings, BOMs, bytes that are not UTF-8.

export type ContentTypeKind = "json" | "unsupportedCharset" | "notJson";
export const contentTypes: Array<[string | undefined, ContentTypeKind]> = [
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

export type Encoding =
  | "identity"
  | "gzip"
  | "deflate"
  | "br"
  | "corrupt gzip"
  | "truncated gzip"
  | "corrupt deflate"
  | "corrupt br"
  | "compress";
export const encodings: Encoding[] = [
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

export function encode(body: Buffer, encoding: Encoding): { bytes: Buffer; header?: string; readable: boolean } {
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

/** Byte sequences that are not UTF-8: stray continuation bytes, truncated sequences, overlong NUL, CESU surrogates. */
export const invalidUtf8 = fc.constantFrom(
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
