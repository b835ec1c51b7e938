import type { IncomingMessage } from "node:http";
import { type ReceivedRequest, startReceiver } from "../startReceiver.js";
import { type FakeAnswer, sendAnswer } from "./fakeAnswers.js";
import { parseJsonObject } from "./fakeJsonRequest.js";

/**
 * A local fake of MailerLite's API (`https://connect.mailerlite.com/api`), for tests: a real HTTP server on
 * 127.0.0.1 that serves, under `/api`, the requests the mailerlite destination makes, as MailerLite documents them,
 * and answers anything else with MailerLite's errors (`{"message"}`, 422 with `errors` by field). State is kept in
 * `subscribers`, `groups` and `fields`, so a test can seed an account and read what was written.
 *
 * Served: `POST /subscribers` (upsert by email, 201 new / 200 updated), `GET /subscribers/{id or email}`,
 * `DELETE /subscribers/{id}/groups/{group_id}`, `GET /groups` and `GET /fields` (paged by `limit` and `page`).
 * Every request must carry `Authorization: Bearer <apiKey>`, else 401 `{"message":"Unauthenticated."}`.
 */
export interface MailerliteFake {
  /** Pass this as the provider's `apiUrl` (it stands for `https://connect.mailerlite.com/api`). */
  readonly apiUrl: string;
  readonly origin: string;
  readonly apiKey: string;
  /** Every request received, in order (failed ones too). */
  readonly requests: ReceivedRequest[];
  /** Subscribers by lower-cased email. */
  readonly subscribers: Map<string, FakeSubscriber>;
  /** Groups by id. Seeded with one, `1001` ("Newsletter"). */
  readonly groups: Map<string, { readonly id: string; readonly name: string }>;
  /** The account's subscriber fields, in order. Seeded with MailerLite's defaults. */
  readonly fields: FakeField[];
  /** The next requests (one per call, in order) get this answer instead of the documented one. */
  failNext(failure: FakeMailerliteFailure): void;
  close(): Promise<void>;
}

export interface FakeSubscriber {
  readonly id: string;
  readonly email: string;
  /** "active", "unsubscribed", "unconfirmed", "bounced" or "junk". */
  status: string;
  readonly fields: Record<string, unknown>;
  /** Group ids. */
  readonly groups: Set<string>;
}

export interface FakeField {
  readonly id: string;
  readonly name: string;
  readonly key: string;
  readonly type: "text" | "number" | "date";
}

export interface FakeMailerliteFailure {
  readonly status: number;
  /** Default: MailerLite's message for the status. */
  readonly message?: string;
  /** Validation errors by field (a 422). */
  readonly errors?: Readonly<Record<string, readonly string[]>>;
  /** Sent as `Retry-After`. A 429 also says `X-RateLimit-Limit: 120` and `X-RateLimit-Remaining: 0`. */
  readonly retryAfter?: string;
}

export const defaultMailerliteFields: readonly FakeField[] = [
  { id: "1", name: "Name", key: "name", type: "text" },
  { id: "2", name: "Last name", key: "last_name", type: "text" },
  { id: "3", name: "Company", key: "company", type: "text" },
  { id: "4", name: "Country", key: "country", type: "text" },
  { id: "5", name: "City", key: "city", type: "text" },
  { id: "6", name: "Phone", key: "phone", type: "text" },
  { id: "7", name: "State", key: "state", type: "text" },
  { id: "8", name: "ZIP", key: "z_i_p", type: "text" },
];

export async function startMailerliteFake(options: { readonly apiKey?: string } = {}): Promise<MailerliteFake> {
  const apiKey = options.apiKey ?? "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake-mailerlite-token";
  const account: Account = {
    subscribers: new Map(),
    groups: new Map([["1001", { id: "1001", name: "Newsletter" }]]),
    fields: [...defaultMailerliteFields],
    nextId: 31_897_397_363_737_859n,
  };
  const failures: FakeMailerliteFailure[] = [];
  const receiver = await startReceiver((req, res, body) => {
    const failure = failures.shift();
    const bearer = req.headers.authorization === `Bearer ${apiKey}`;
    sendAnswer(
      res,
      failure !== undefined ? errorAnswer(failure) : bearer ? route(account, req, body) : errorAnswer({ status: 401 }),
      "application/json",
    );
  });
  return {
    apiUrl: `${receiver.origin}/api`,
    origin: receiver.origin,
    apiKey,
    requests: receiver.requests,
    subscribers: account.subscribers,
    groups: account.groups,
    fields: account.fields,
    failNext: (failure) => {
      failures.push(failure);
    },
    close: () => receiver.close(),
  };
}

interface Account {
  readonly subscribers: Map<string, FakeSubscriber>;
  readonly groups: Map<string, { readonly id: string; readonly name: string }>;
  readonly fields: FakeField[];
  nextId: bigint;
}

function route(account: Account, req: IncomingMessage, body: Buffer): FakeAnswer {
  const url = new URL(req.url ?? "/", "http://fake");
  const [prefix, resource, id, sub, groupId, ...rest] = url.pathname.split("/").slice(1).map(decodeURIComponent);
  const method = req.method ?? "";
  if (prefix !== "api" || rest.length > 0) return notFound;
  if ((resource === "groups" || resource === "fields") && id === undefined) {
    if (method !== "GET") return notAllowed;
    const all = resource === "groups" ? [...account.groups.values()] : account.fields;
    return { status: 200, json: page(all, url, resource) };
  }
  if (resource !== "subscribers") return notFound;
  if (id === undefined) return method === "POST" ? upsert(account, req, body) : notAllowed;
  const subscriber = find(account, id);
  if (sub === undefined) {
    if (method !== "GET") return notAllowed;
    return subscriber === undefined ? notFound : { status: 200, json: { data: subscriberJson(account, subscriber) } };
  }
  if (sub !== "groups" || groupId === undefined) return notFound;
  if (method !== "DELETE") return notAllowed;
  if (subscriber === undefined || !account.groups.has(groupId)) return notFound;
  subscriber.groups.delete(groupId);
  return { status: 204 };
}

function find(account: Account, idOrEmail: string): FakeSubscriber | undefined {
  return account.subscribers.get(idOrEmail.toLowerCase()) ?? [...account.subscribers.values()].find((s) => s.id === idOrEmail);
}

function page(all: readonly unknown[], url: URL, resource: string) {
  const limit = Number(url.searchParams.get("limit") ?? "25");
  const current = Number(url.searchParams.get("page") ?? "1");
  const lastPage = Math.max(1, Math.ceil(all.length / limit));
  return {
    data: all.slice((current - 1) * limit, current * limit),
    links: { first: null, last: null, prev: null, next: null },
    meta: { current_page: current, last_page: lastPage, per_page: limit, total: all.length, path: `/api/${resource}` },
  };
}

const statuses = ["active", "unsubscribed", "unconfirmed", "bounced", "junk"];

/** Create/upsert subscriber: non-destructive (fields and groups not sent are kept); 201 when created, 200 when updated. */
function upsert(account: Account, req: IncomingMessage, body: Buffer): FakeAnswer {
  if (!/^application\/json/.test(req.headers["content-type"] ?? "")) return invalid({ email: ["The email field is required."] });
  const sent = parseJsonObject(body) ?? {};
  const { email, fields, groups, status } = sent;
  const errors: Record<string, string[]> = {};
  if (typeof email !== "string" || email === "") errors.email = ["The email field is required."];
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.email = ["The email must be a valid email address."];
  if (fields !== undefined && (typeof fields !== "object" || fields === null || Array.isArray(fields)))
    errors.fields = ["The fields must be an array."];
  if (groups !== undefined && !Array.isArray(groups)) errors.groups = ["The groups must be an array."];
  for (const [index, group] of (Array.isArray(groups) ? groups : []).entries()) {
    if (typeof group !== "string" || !account.groups.has(group)) errors[`groups.${index}`] = [`The selected groups.${index} is invalid.`];
  }
  if (status !== undefined && !statuses.includes(String(status))) errors.status = ["The selected status is invalid."];
  if (Object.keys(errors).length > 0 || typeof email !== "string") return invalid(errors);
  const existing = account.subscribers.get(email.toLowerCase());
  const subscriber = existing ?? { id: String(account.nextId++), email, status: "active", fields: {}, groups: new Set<string>() };
  Object.assign(subscriber.fields, fields);
  for (const group of (groups ?? []) as string[]) subscriber.groups.add(group);
  if (status !== undefined) subscriber.status = String(status);
  account.subscribers.set(email.toLowerCase(), subscriber);
  return { status: existing === undefined ? 201 : 200, json: { data: subscriberJson(account, subscriber) } };
}

function subscriberJson(account: Account, subscriber: FakeSubscriber) {
  const fields = Object.fromEntries(account.fields.map((field) => [field.key, subscriber.fields[field.key] ?? null]));
  return {
    id: subscriber.id,
    email: subscriber.email,
    status: subscriber.status,
    source: "api",
    fields,
    groups: [...subscriber.groups].map((id) => account.groups.get(id)).filter((group) => group !== undefined),
  };
}

function invalid(errors: Record<string, readonly string[]>): FakeAnswer {
  const first = Object.values(errors)[0]?.[0] ?? "The given data was invalid.";
  return errorAnswer({ status: 422, message: first, errors });
}

const messages: Record<number, string> = {
  401: "Unauthenticated.",
  403: "This action is unauthorized.",
  404: "Resource not found.",
  405: "The method is not supported for this route.",
  429: "Too Many Attempts.",
  500: "Server Error",
  503: "Service Unavailable",
};

/** MailerLite's error answer: `{"message"}`, with `errors` by field for a 422, and its rate-limit headers on a 429. */
function errorAnswer(failure: FakeMailerliteFailure): FakeAnswer {
  const headers: Record<string, string> = {};
  if (failure.status === 429) Object.assign(headers, { "X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "0" });
  if (failure.retryAfter !== undefined) headers["Retry-After"] = failure.retryAfter;
  return {
    status: failure.status,
    headers,
    json: {
      message: failure.message ?? messages[failure.status] ?? "Error",
      ...(failure.errors === undefined ? {} : { errors: failure.errors }),
    },
  };
}

const notFound = errorAnswer({ status: 404 });
const notAllowed = errorAnswer({ status: 405 });
