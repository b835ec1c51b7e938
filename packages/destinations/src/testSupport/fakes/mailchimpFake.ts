import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { type ReceivedRequest, startReceiver } from "../startReceiver.js";
import { type FakeAnswer, sendAnswer } from "./fakeAnswers.js";
import { parseJsonObject } from "./fakeJsonRequest.js";

/**
 * A local fake of Mailchimp's Marketing API (3.0), for tests: a real HTTP server on 127.0.0.1 that serves the
 * requests the mailchimp destination makes, under `/3.0`, as Mailchimp documents them, and answers anything else
 * with Mailchimp's problem+json errors. State is kept in `lists`, so a test (or an end-to-end run) can seed
 * audiences and read the members that were added.
 *
 * Served: `GET /lists`, `GET /lists/{id}`, `GET /lists/{id}/merge-fields`, `PUT` and `DELETE /lists/{id}/members/{hash}`.
 * Every request must carry HTTP Basic credentials whose password is `apiKey` (any user name), else 401.
 */
export interface MailchimpFake {
  /** Pass this as the provider's `apiUrl` (it stands for `https://{dc}.api.mailchimp.com/3.0`). */
  readonly apiUrl: string;
  readonly origin: string;
  /** The API key the fake accepts. */
  readonly apiKey: string;
  /** Every request received, in order (failed ones too). */
  readonly requests: ReceivedRequest[];
  /** Audiences by id. Seeded with one, `list_1` ("Newsletter"), with the default merge fields. */
  readonly lists: Map<string, FakeAudience>;
  /**
   * The next requests (one per call, in order) get this answer instead of the documented one: a validation error
   * (400 "Invalid Resource"), a 401, a 429 with `Retry-After`, a 5xx...
   */
  failNext(failure: FakeMailchimpFailure): void;
  close(): Promise<void>;
}

export interface FakeAudience {
  readonly id: string;
  readonly name: string;
  readonly mergeFields: FakeMergeField[];
  /** Members by subscriber hash. */
  readonly members: Map<string, FakeMember>;
}

export interface FakeMergeField {
  readonly tag: string;
  readonly name: string;
  readonly type: string;
  readonly required?: boolean;
  readonly choices?: readonly string[];
}

export interface FakeMember {
  email_address: string;
  /** "subscribed", "unsubscribed", "pending", "cleaned" or "archived". */
  status: string;
  /** The status an archived member had before it was archived. */
  status_before_archive?: string;
  merge_fields: Record<string, unknown>;
}

export interface FakeMailchimpFailure {
  readonly status: number;
  /** Default: the HTTP reason phrase. */
  readonly title?: string;
  readonly detail?: string;
  /** Sent as `Retry-After` (seconds or an HTTP date). */
  readonly retryAfter?: string;
  readonly errors?: readonly { readonly field: string; readonly message: string }[];
}

/** Mailchimp's default merge fields of a new audience. */
export const defaultMergeFields: readonly FakeMergeField[] = [
  { tag: "FNAME", name: "First Name", type: "text" },
  { tag: "LNAME", name: "Last Name", type: "text" },
  { tag: "ADDRESS", name: "Address", type: "address" },
  { tag: "PHONE", name: "Phone Number", type: "phone" },
  { tag: "BIRTHDAY", name: "Birthday", type: "birthday" },
];

export function mailchimpSubscriberHash(email: string): string {
  return createHash("md5").update(email.toLowerCase(), "utf8").digest("hex");
}

export async function startMailchimpFake(options: { readonly apiKey?: string } = {}): Promise<MailchimpFake> {
  const apiKey = options.apiKey ?? "0123456789abcdef0123456789abcdef-us21";
  const lists = new Map<string, FakeAudience>([
    ["list_1", { id: "list_1", name: "Newsletter", mergeFields: [...defaultMergeFields], members: new Map() }],
  ]);
  const failures: FakeMailchimpFailure[] = [];
  const receiver = await startReceiver((req, res, body) => {
    const failure = failures.shift();
    sendAnswer(
      res,
      failure !== undefined ? problem(failure) : authorized(req, apiKey) ? route(lists, req, body) : unauthorized,
      "application/json; charset=utf-8",
    );
  });
  return {
    apiUrl: `${receiver.origin}/3.0`,
    origin: receiver.origin,
    apiKey,
    requests: receiver.requests,
    lists,
    failNext: (failure) => {
      failures.push(failure);
    },
    close: () => receiver.close(),
  };
}

function authorized(req: IncomingMessage, apiKey: string): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? "");
  if (match?.[1] === undefined) return false;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 && decoded.slice(colon + 1) === apiKey;
}

function route(lists: Map<string, FakeAudience>, req: IncomingMessage, body: Buffer): FakeAnswer {
  const url = new URL(req.url ?? "/", "http://fake");
  const parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
  if (parts[0] !== "3.0" || parts[1] !== "lists") return notFound;
  const [, , listId, sub, hash, ...rest] = parts;
  const method = req.method ?? "";
  if (listId === undefined) return method === "GET" ? { status: 200, json: listsPage(lists, url) } : notAllowed;
  const list = lists.get(listId);
  if (list === undefined || rest.length > 0) return notFound;
  if (sub === undefined) return method === "GET" ? { status: 200, json: { id: list.id, name: list.name } } : notAllowed;
  if (sub === "merge-fields" && hash === undefined) return method === "GET" ? { status: 200, json: mergeFieldsPage(list) } : notAllowed;
  if (sub !== "members" || hash === undefined) return notFound;
  if (method === "PUT") return putMember(list, hash, body);
  if (method === "DELETE") return deleteMember(list, hash);
  return notAllowed;
}

function listsPage(lists: Map<string, FakeAudience>, url: URL) {
  const count = Number(url.searchParams.get("count") ?? "10");
  const offset = Number(url.searchParams.get("offset") ?? "0");
  const all = [...lists.values()];
  return { lists: all.slice(offset, offset + count).map(({ id, name }) => ({ id, name })), total_items: all.length };
}

function mergeFieldsPage(list: FakeAudience) {
  return {
    merge_fields: list.mergeFields.map(({ tag, name, type, required, choices }) => ({
      tag,
      name,
      type,
      required: required === true,
      ...(choices === undefined ? {} : { options: { choices } }),
    })),
    total_items: list.mergeFields.length,
  };
}

const statuses = ["subscribed", "unsubscribed", "cleaned", "pending", "transactional"];

const invalid = (detail: string, errors?: FakeMailchimpFailure["errors"]): FakeAnswer =>
  problem({ status: 400, title: "Invalid Resource", detail, ...(errors === undefined ? {} : { errors }) });

/** Add or update list member: the body must name the member the hash names, and a status for a new member. */
function putMember(list: FakeAudience, hash: string, body: Buffer): FakeAnswer {
  const member = parseJsonObject(body);
  if (member === undefined)
    return problem({ status: 400, title: "JSON Parse Error", detail: "We encountered an unspecified JSON parsing error." });
  const { email_address: email, status, status_if_new: statusIfNew, merge_fields: mergeFields, ...other } = member;
  if (Object.keys(other).length > 0) return invalid(`Unexpected properties: ${Object.keys(other).join(", ")}`);
  if (typeof email !== "string" || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return invalid("Please provide a valid email address.");
  if (mailchimpSubscriberHash(email) !== hash) return invalid("The email address does not match the subscriber hash.");
  if (status !== undefined && !statuses.includes(String(status))) return invalid("The status is not one of the allowed values.");
  if (statusIfNew !== undefined && !statuses.includes(String(statusIfNew)))
    return invalid("The status_if_new is not one of the allowed values.");
  if (mergeFields !== undefined && (typeof mergeFields !== "object" || mergeFields === null || Array.isArray(mergeFields))) {
    return invalid("merge_fields must be an object.");
  }
  const fields = (mergeFields ?? {}) as Record<string, unknown>;
  const existing = list.members.get(hash);
  if (existing !== undefined) return updateMember(list, hash, existing, status, fields);
  const newStatus = status ?? statusIfNew;
  if (newStatus === undefined) return invalid("The resource submitted could not be validated.", [{ field: "status", message: "required" }]);
  const missing = list.mergeFields.filter((field) => field.required && (fields[field.tag] === undefined || fields[field.tag] === ""));
  if (missing.length > 0)
    return invalid(
      "Your merge fields were invalid.",
      missing.map((field) => ({ field: field.tag, message: "Please enter a value" })),
    );
  const created: FakeMember = { email_address: email, status: String(newStatus), merge_fields: { ...fields } };
  list.members.set(hash, created);
  return { status: 200, json: memberJson(list, hash, created) };
}

/** An existing member keeps its status unless `status` is sent; a contact who unsubscribed cannot be subscribed by the API. */
function updateMember(
  list: FakeAudience,
  hash: string,
  existing: FakeMember,
  status: unknown,
  fields: Record<string, unknown>,
): FakeAnswer {
  if (status !== undefined) {
    const previous = existing.status === "archived" ? existing.status_before_archive : existing.status;
    if (previous === "unsubscribed" && status === "subscribed") {
      return problem({
        status: 400,
        title: "Member In Compliance State",
        detail: "The contact is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.",
      });
    }
    existing.status = String(status);
    delete existing.status_before_archive;
  }
  Object.assign(existing.merge_fields, fields);
  return { status: 200, json: memberJson(list, hash, existing) };
}

/** Archive list member: 204, or 404 when the audience has no such member. */
function deleteMember(list: FakeAudience, hash: string): FakeAnswer {
  const member = list.members.get(hash);
  if (member === undefined) return notFound;
  if (member.status !== "archived") {
    member.status_before_archive = member.status;
    member.status = "archived";
  }
  return { status: 204 };
}

function memberJson(list: FakeAudience, hash: string, member: FakeMember) {
  return { id: hash, email_address: member.email_address, status: member.status, merge_fields: member.merge_fields, list_id: list.id };
}

/** Mailchimp's error answer: RFC 7807 problem details, with `errors` for field validation. */
function problem(failure: FakeMailchimpFailure): FakeAnswer {
  return {
    status: failure.status,
    headers: {
      "Content-Type": "application/problem+json; charset=utf-8",
      ...(failure.retryAfter === undefined ? {} : { "Retry-After": failure.retryAfter }),
    },
    json: {
      type: "https://mailchimp.com/developer/marketing/docs/errors/",
      title: failure.title ?? defaultTitle(failure.status),
      status: failure.status,
      detail: failure.detail ?? "",
      instance: "00000000-0000-4000-8000-000000000000",
      ...(failure.errors === undefined ? {} : { errors: failure.errors }),
    },
  };
}

const unauthorized = problem({
  status: 401,
  title: "API Key Invalid",
  detail: "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
});
const notFound = problem({ status: 404, title: "Resource Not Found", detail: "The requested resource could not be found." });
const notAllowed = problem({ status: 405, title: "Method Not Allowed", detail: "The requested method and resource are not compatible." });

function defaultTitle(status: number): string {
  const titles: Record<number, string> = {
    400: "Invalid Resource",
    401: "API Key Invalid",
    403: "Forbidden",
    404: "Resource Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
  };
  return titles[status] ?? "Error";
}
