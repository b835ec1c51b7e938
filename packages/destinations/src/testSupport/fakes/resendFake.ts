import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { startReceiver } from "../startReceiver.js";
import { sendAnswer } from "./fakeAnswers.js";
import { type FakeJsonRequest, fakeJsonRequest } from "./fakeJsonRequest.js";

/**
 * A local Resend API for tests, with an account in memory (contacts, segments, templates, contact properties).
 * It accepts the documented requests (`POST /emails`, the contacts and segment-membership endpoints, the list
 * endpoints), checks `Authorization: Bearer <key>` and the body shapes, and answers Resend's documented successes
 * and errors (`{ statusCode, name, message }`), or a failure it was told to give next.
 */
export interface ResendFake {
  /** `http://127.0.0.1:<port>`: the operator's `SWITCHYARD_RESEND_API_URL` in tests. */
  readonly origin: string;
  /** The only key the fake accepts. */
  readonly apiKey: string;
  /** Every request received, in order, its body parsed as JSON (undefined when empty or not JSON). */
  readonly requests: readonly ResendFakeRequest[];
  /** The `POST /emails` bodies accepted, in order (a replay of an idempotency key sends nothing). */
  readonly sent: readonly Record<string, unknown>[];
  /** The account's contacts by lower-case email. */
  readonly contacts: ReadonlyMap<string, ResendFakeContact>;
  /**
   * Answers the next request (or the next one with this method and path, without its query) with this failure
   * instead of serving it; once per call, queued in order.
   */
  failNext(failure: ResendFailure, when?: { readonly method: string; readonly path: string }): void;
  close(): Promise<void>;
}

export type ResendFakeRequest = FakeJsonRequest;

export interface ResendFakeContact {
  readonly id: string;
  readonly email: string;
  first_name?: string;
  last_name?: string;
  unsubscribed: boolean;
  properties: Record<string, string | number>;
  readonly segments: Set<string>;
}

/**
 * `validation`: 422 validation_error. `missing_api_key`: 401. `invalid_api_key`: 403. `api_key_invalid_400`: 400
 * validation_error "API key is invalid" (what endpoints other than sending answer for a bad key). `unverified_domain`: 403
 * validation_error. `rate_limited`: 429 rate_limit_exceeded with `retry-after` and/or `ratelimit-reset` seconds as
 * given. `concurrent_idempotent_requests`: 409. `server_error`: 500 application_error (or the status given).
 */
export type ResendFailure =
  | {
      readonly kind:
        | "validation"
        | "missing_api_key"
        | "invalid_api_key"
        | "api_key_invalid_400"
        | "unverified_domain"
        | "concurrent_idempotent_requests";
    }
  | { readonly kind: "rate_limited"; readonly retryAfterSeconds?: number; readonly resetSeconds?: number }
  | { readonly kind: "server_error"; readonly status?: number };

export interface ResendFakeOptions {
  /** Default `re_fake_key`. */
  readonly apiKey?: string;
  readonly segments?: readonly { readonly id: string; readonly name: string }[];
  /** A template may carry its own `from` and `subject`, used when the send does not set them. */
  readonly templates?: readonly ResendFakeTemplate[];
  readonly contactProperties?: readonly { readonly id: string; readonly key: string; readonly type: "string" | "number" }[];
  /** Contacts the account already has. */
  readonly contacts?: readonly {
    readonly email: string;
    readonly first_name?: string;
    readonly last_name?: string;
    readonly segments?: readonly string[];
  }[];
}

export interface ResendFakeTemplate {
  readonly id: string;
  readonly name: string;
  readonly status: "published" | "draft";
  readonly from?: string;
  readonly subject?: string;
}

export const defaultResendSegments = [
  { id: "78261eea-8f8b-4381-83c6-79fa7120f1cf", name: "Registered users" },
  { id: "3f4c2a10-0c1d-4e5f-9a8b-7c6d5e4f3a2b", name: "Newsletter" },
] as const;

export const defaultResendTemplates: readonly ResendFakeTemplate[] = [
  { id: "34a080c9-b17d-4187-ad80-5af20266e535", name: "Welcome", status: "published", from: "Acme <hello@acme.test>", subject: "Welcome" },
  { id: "order-confirmation", name: "Order confirmation", status: "published" },
  { id: "b2c3d4e5-0000-4000-8000-000000000003", name: "Next campaign", status: "draft" },
];

export async function startResendFake(options: ResendFakeOptions = {}): Promise<ResendFake> {
  const account: Account = {
    apiKey: options.apiKey ?? "re_fake_key",
    segments: options.segments ?? defaultResendSegments,
    templates: options.templates ?? defaultResendTemplates,
    properties: options.contactProperties ?? [{ id: "b6d24b8e-af0b-4c3c-be0c-359bbd97381e", key: "company_name", type: "string" }],
    contacts: new Map(),
    sent: [],
    idempotency: new Map(),
  };
  for (const seed of options.contacts ?? []) {
    const { segments, ...fields } = seed;
    account.contacts.set(seed.email.toLowerCase(), {
      id: randomUUID(),
      unsubscribed: false,
      properties: {},
      segments: new Set(segments),
      ...fields,
    });
  }
  const requests: ResendFakeRequest[] = [];
  const failures: { failure: ResendFailure; when?: { readonly method: string; readonly path: string } }[] = [];
  const receiver = await startReceiver((req, res, body) => {
    const request = fakeJsonRequest(req, body);
    requests.push(request);
    const { json } = request;
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const index = failures.findIndex(({ when }) => when === undefined || (when.method === req.method && when.path === path));
    if (index >= 0) return answerFailure(res, failures.splice(index, 1)[0]?.failure as ResendFailure);
    if (req.headers.authorization === undefined) return error(res, 401, "missing_api_key", "Missing API key in the authorization header.");
    if (req.headers.authorization !== `Bearer ${account.apiKey}`) return error(res, 403, "invalid_api_key", "API key is invalid.");
    route(req, res, json, account);
  });
  return {
    origin: receiver.origin,
    apiKey: account.apiKey,
    requests,
    sent: account.sent,
    contacts: account.contacts,
    failNext: (failure, when) => void failures.push(when === undefined ? { failure } : { failure, when }),
    close: () => receiver.close(),
  };
}

interface Account {
  readonly apiKey: string;
  readonly segments: readonly { readonly id: string; readonly name: string }[];
  readonly templates: readonly ResendFakeTemplate[];
  readonly properties: readonly { readonly id: string; readonly key: string; readonly type: string }[];
  readonly contacts: Map<string, ResendFakeContact>;
  readonly sent: Record<string, unknown>[];
  /** Idempotency key to the body's hash and the email id answered. */
  readonly idempotency: Map<string, { readonly hash: string; readonly id: string }>;
}

function route(req: IncomingMessage, res: ServerResponse, json: unknown, account: Account): undefined {
  const url = new URL(req.url ?? "/", "http://fake");
  const parts = url.pathname
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  const method = req.method ?? "";
  if (json !== undefined && !/^application\/json/i.test(req.headers["content-type"] ?? "")) {
    return error(res, 400, "validation_error", "Content-Type must be application/json.");
  }
  if (method === "POST" && url.pathname === "/emails") return sendEmail(req, res, json, account);
  if (method === "GET" && parts.length === 1) {
    const lists: Record<string, readonly { readonly id: string }[]> = {
      templates: account.templates,
      segments: account.segments,
      "contact-properties": account.properties,
    };
    const list = lists[parts[0] ?? ""];
    if (list !== undefined) return listPage(res, url, list);
  }
  if (parts[0] === "contacts") return contacts(method, parts.slice(1), res, json, account);
  error(res, 404, "not_found", "The requested endpoint does not exist.");
}

/** `limit` (1 to 100) and `after` (an id of the list) as Resend pages; answers `{ object: "list", has_more, data }`. */
function listPage(res: ServerResponse, url: URL, list: readonly { readonly id: string }[]): undefined {
  const limit = Number(url.searchParams.get("limit") ?? "20");
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return error(res, 422, "validation_error", "limit must be between 1 and 100.");
  const after = url.searchParams.get("after");
  const start = after === null ? 0 : list.findIndex((item) => item.id === after) + 1;
  const data = list.slice(start, start + limit);
  answer(res, 200, { object: "list", has_more: start + limit < list.length, data });
}

function sendEmail(req: IncomingMessage, res: ServerResponse, json: unknown, account: Account): undefined {
  if (typeof json !== "object" || json === null) return error(res, 422, "validation_error", "The body must be a JSON object.");
  const mail = json as Record<string, unknown>;
  const problem = emailProblem(mail, account.templates);
  if (problem !== undefined) return error(res, 422, problem.name, problem.message);
  const key = req.headers["idempotency-key"];
  if (typeof key === "string") {
    if (key.length < 1 || key.length > 256) return error(res, 400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
    const hash = createHash("sha256").update(JSON.stringify(mail)).digest("hex");
    const seen = account.idempotency.get(key);
    if (seen !== undefined && seen.hash !== hash)
      return error(res, 409, "invalid_idempotent_request", "Same idempotency key used with a different request payload.");
    if (seen !== undefined) return answer(res, 200, { id: seen.id });
    const id = randomUUID();
    account.idempotency.set(key, { hash, id });
    account.sent.push(mail);
    return answer(res, 200, { id });
  }
  account.sent.push(mail);
  answer(res, 200, { id: randomUUID() });
}

/** Resend's checks of a send: a sender, recipients, and either a published template or a subject with html or text. */
function emailProblem(
  mail: Record<string, unknown>,
  templates: readonly ResendFakeTemplate[],
): { name: string; message: string } | undefined {
  const to = typeof mail.to === "string" ? [mail.to] : mail.to;
  if (!Array.isArray(to) || to.length === 0 || to.length > 50) return { name: "missing_required_field", message: "Missing `to` field." };
  if (!to.every(isAddress)) return { name: "validation_error", message: "Invalid `to` field." };
  if (mail.template !== undefined) {
    const template = mail.template as { id?: unknown; variables?: unknown };
    const found = templates.find((t) => t.id === template.id);
    if (found === undefined || found.status !== "published")
      return { name: "validation_error", message: "Template not found or not published." };
    if (mail.html !== undefined || mail.text !== undefined)
      return { name: "validation_error", message: "Cannot send html or text with a template." };
    if (!variablesValid(template.variables)) return { name: "validation_error", message: "Template variables must be strings or numbers." };
    if (mail.from === undefined && found.from === undefined) return { name: "missing_required_field", message: "Missing `from` field." };
    if (mail.subject === undefined && found.subject === undefined)
      return { name: "missing_required_field", message: "Missing `subject` field." };
  } else {
    if (mail.from === undefined) return { name: "missing_required_field", message: "Missing `from` field." };
    if (typeof mail.subject !== "string" || mail.subject === "")
      return { name: "missing_required_field", message: "Missing `subject` field." };
    if (typeof mail.html !== "string" && typeof mail.text !== "string")
      return { name: "missing_required_field", message: "Missing `html` or `text` field." };
  }
  if (mail.from !== undefined && !isSender(mail.from)) return { name: "validation_error", message: "Invalid `from` field." };
  return undefined;
}

const reserved = new Set(["FIRST_NAME", "LAST_NAME", "EMAIL", "UNSUBSCRIBE_URL", "contact", "this"]);

function variablesValid(variables: unknown): boolean {
  if (variables === undefined) return true;
  if (typeof variables !== "object" || variables === null || Array.isArray(variables)) return false;
  return Object.entries(variables).every(([key, value]) => !reserved.has(key) && (typeof value === "string" || typeof value === "number"));
}

/** The contacts endpoints: `POST /contacts`, `GET|PATCH /contacts/{id|email}`, `POST|DELETE /contacts/{id|email}/segments/{segment}`. */
function contacts(method: string, rest: string[], res: ServerResponse, json: unknown, account: Account): undefined {
  if (rest.length === 0 && method === "POST") return createContact(res, json, account);
  const contact = findContact(account, rest[0] ?? "");
  if (rest.length === 1 && (method === "GET" || method === "PATCH")) {
    if (contact === undefined) return error(res, 404, "not_found", "Contact not found.");
    if (method === "PATCH") {
      const problem = changesProblem(json);
      if (problem !== undefined) return error(res, 422, "validation_error", problem);
      Object.assign(contact, json);
      return answer(res, 200, { object: "contact", id: contact.id });
    }
    const { segments: _segments, ...shown } = contact;
    return answer(res, 200, { object: "contact", ...shown });
  }
  if (rest.length === 3 && rest[1] === "segments" && (method === "POST" || method === "DELETE")) {
    const segmentId = rest[2] ?? "";
    if (contact === undefined) return error(res, 404, "not_found", "Contact not found.");
    if (!account.segments.some((s) => s.id === segmentId)) return error(res, 404, "not_found", "Segment not found.");
    if (method === "POST") {
      contact.segments.add(segmentId);
      return answer(res, 200, { object: "contact_segment", id: segmentId });
    }
    if (!contact.segments.delete(segmentId)) return error(res, 404, "not_found", "Contact is not in this segment.");
    return answer(res, 200, { id: segmentId, deleted: true });
  }
  error(res, 404, "not_found", "The requested endpoint does not exist.");
}

function createContact(res: ServerResponse, json: unknown, account: Account): undefined {
  const body = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  if (!isAddress(body.email)) return error(res, 422, "missing_required_field", "Missing or invalid `email` field.");
  const { email: _email, ...changes } = body;
  const problem = changesProblem(changes);
  if (problem !== undefined) return error(res, 422, "validation_error", problem);
  const email = body.email as string;
  if (account.contacts.has(email.toLowerCase())) return error(res, 422, "validation_error", "Contact already exists.");
  const contact: ResendFakeContact = { id: randomUUID(), email, unsubscribed: false, properties: {}, segments: new Set(), ...changes };
  account.contacts.set(email.toLowerCase(), contact);
  answer(res, 201, { object: "contact", id: contact.id });
}

const contactKeys = new Set(["first_name", "last_name", "unsubscribed", "properties"]);

function changesProblem(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "The body must be a JSON object.";
  for (const [key, value] of Object.entries(json)) {
    if (!contactKeys.has(key)) return `Unknown field \`${key}\`.`;
    if ((key === "first_name" || key === "last_name") && typeof value !== "string") return `\`${key}\` must be a string.`;
    if (key === "unsubscribed" && typeof value !== "boolean") return "`unsubscribed` must be a boolean.";
    if (
      key === "properties" &&
      (typeof value !== "object" || value === null || !Object.values(value).every((v) => typeof v === "string" || typeof v === "number"))
    )
      return "`properties` values must be strings or numbers.";
  }
  return undefined;
}

function findContact(account: Account, idOrEmail: string): ResendFakeContact | undefined {
  return account.contacts.get(idOrEmail.toLowerCase()) ?? [...account.contacts.values()].find((c) => c.id === idOrEmail);
}

function answerFailure(res: ServerResponse, failure: ResendFailure): undefined {
  switch (failure.kind) {
    case "validation":
      return error(res, 422, "validation_error", "Invalid `to` field. The email address needs to follow the `email@example.com` format.");
    case "missing_api_key":
      return error(res, 401, "missing_api_key", "Missing API key in the authorization header.");
    case "invalid_api_key":
      return error(res, 403, "invalid_api_key", "API key is invalid.");
    case "api_key_invalid_400":
      return error(res, 400, "validation_error", "API key is invalid");
    case "unverified_domain":
      return error(res, 403, "validation_error", "The acme.test domain is not verified. Please, add and verify your domain.");
    case "concurrent_idempotent_requests":
      return error(res, 409, "concurrent_idempotent_requests", "Same idempotency key used while original request is still in progress.");
    case "rate_limited": {
      const headers: Record<string, string> = { "ratelimit-limit": "2", "ratelimit-remaining": "0" };
      if (failure.retryAfterSeconds !== undefined) headers["retry-after"] = String(failure.retryAfterSeconds);
      if (failure.resetSeconds !== undefined) headers["ratelimit-reset"] = String(failure.resetSeconds);
      return error(res, 429, "rate_limit_exceeded", "Too many requests. Please limit the number of requests per second.", headers);
    }
    case "server_error":
      return error(res, failure.status ?? 500, "application_error", "An unexpected error occurred.");
  }
}

function error(res: ServerResponse, status: number, name: string, message: string, headers: Record<string, string> = {}): undefined {
  answer(res, status, { statusCode: status, name, message }, headers);
}

function answer(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): undefined {
  sendAnswer(res, { status, json, headers }, "application/json");
}

function isAddress(value: unknown): value is string {
  return typeof value === "string" && /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(value);
}

function isSender(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const named = /^(.*)<([^<>]+)>$/.exec(value.trim());
  return named === null ? isAddress(value.trim()) : isAddress(named[2]?.trim());
}
