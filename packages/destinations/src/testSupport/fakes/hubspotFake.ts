import type { IncomingMessage } from "node:http";
import { type ReceivedRequest, startReceiver } from "../startReceiver.js";
import { type FakeAnswer, ScriptedAnswers, sendAnswer } from "./fakeAnswers.js";

/**
 * A local HubSpot for tests: a real HTTP server on 127.0.0.1 that accepts exactly the requests the HubSpot plugin
 * sends, as HubSpot documents them, and keeps contacts and list memberships in memory:
 *
 * - `POST /crm/v3/objects/contacts/batch/upsert`: `{inputs: [{idProperty: "email", id, properties}]}`, property
 *   values text, every property known and writable; answers `{status: "COMPLETE", results: [{id, new, properties}]}`.
 * - `PUT /crm/v3/lists/{listId}/memberships/add` and `/remove`: a JSON array of record ids, MANUAL or SNAPSHOT lists only.
 * - `POST /crm/v3/lists/search`: `{query, count, offset, processingTypes}`, paged.
 * - `GET /crm/v3/properties/contacts`: the contact properties.
 *
 * Every request needs `Authorization: Bearer <accessToken>`; anything else gets HubSpot's error body (401, 404,
 * 400 VALIDATION_ERROR). `failNext` scripts the next answers: a validation error, a 401 (expired token), a 403
 * (missing scopes), a 429 with Retry-After, a 5xx.
 */
export interface HubSpotFake {
  /** `http://127.0.0.1:<port>`: the plugin's API base in tests (`SWITCHYARD_HUBSPOT_API_URL`). */
  readonly origin: string;
  /** The only token it accepts. */
  readonly accessToken: string;
  /** Every request received, in order (failed ones too). */
  readonly requests: ReceivedRequest[];
  /** Contacts by lower-case email. */
  readonly contacts: Map<string, HubSpotFakeContact>;
  /** Lists by list id. */
  readonly lists: Map<string, HubSpotFakeList>;
  /**
   * The next request (whose path contains `path`, if given) gets this answer instead, `times` times (default 1).
   * `rate_limited` sends `Retry-After: retryAfterSeconds` (default 1); `server_error` answers `status` (default 502).
   */
  failNext(failure: HubSpotFakeFailure, options?: { path?: string; times?: number; retryAfterSeconds?: number; status?: number }): void;
  close(): Promise<void>;
}

export type HubSpotFakeFailure = "validation" | "unauthorized" | "missing_scopes" | "rate_limited" | "server_error";

export interface HubSpotFakeContact {
  readonly id: string;
  readonly properties: Record<string, string>;
}

export interface HubSpotFakeList {
  readonly listId: string;
  readonly name: string;
  readonly processingType: "MANUAL" | "SNAPSHOT" | "DYNAMIC";
  /** "0-1" for contacts. */
  readonly objectTypeId: string;
  readonly members: Set<string>;
}

/** A contact property as `GET /crm/v3/properties/contacts` answers it. */
export interface HubSpotFakeProperty {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly fieldType: string;
  readonly description?: string;
  readonly hidden?: boolean;
  readonly calculated?: boolean;
  readonly hasUniqueValue?: boolean;
  readonly options?: readonly { readonly label: string; readonly value: string; readonly hidden?: boolean }[];
  readonly modificationMetadata?: { readonly readOnlyValue: boolean };
}

const option = (value: string, label: string) => ({ label, value, hidden: false });
const writable = { readOnlyValue: false };

/** The properties every fake account has: HubSpot's defaults used here and two custom ones. */
export const defaultHubSpotProperties: readonly HubSpotFakeProperty[] = [
  { name: "email", label: "Email", type: "string", fieldType: "text", hasUniqueValue: true, modificationMetadata: writable },
  { name: "firstname", label: "First Name", type: "string", fieldType: "text", modificationMetadata: writable },
  { name: "lastname", label: "Last Name", type: "string", fieldType: "text", modificationMetadata: writable },
  { name: "phone", label: "Phone Number", type: "string", fieldType: "phonenumber", modificationMetadata: writable },
  {
    name: "lifecyclestage",
    label: "Lifecycle Stage",
    type: "enumeration",
    fieldType: "radio",
    options: [option("lead", "Lead"), option("customer", "Customer")],
    modificationMetadata: writable,
  },
  {
    name: "interests",
    label: "Interests",
    type: "enumeration",
    fieldType: "checkbox",
    options: [option("crm", "CRM"), option("email", "Email")],
    modificationMetadata: writable,
  },
  { name: "score", label: "Score", type: "number", fieldType: "number", modificationMetadata: writable },
  { name: "newsletter", label: "Newsletter", type: "bool", fieldType: "booleancheckbox", modificationMetadata: writable },
  { name: "hs_object_id", label: "Record ID", type: "number", fieldType: "number", modificationMetadata: { readOnlyValue: true } },
  { name: "createdate", label: "Create Date", type: "datetime", fieldType: "date", modificationMetadata: { readOnlyValue: true } },
  { name: "hs_internal", label: "Internal", type: "string", fieldType: "text", hidden: true, modificationMetadata: writable },
];

interface Scripted {
  readonly failure: HubSpotFakeFailure;
  readonly retryAfterSeconds: number;
  readonly status: number;
}

type Json = Record<string, unknown>;

export async function startHubSpotFake(
  options: {
    readonly accessToken?: string;
    readonly lists?: readonly Omit<HubSpotFakeList, "members">[];
    readonly properties?: readonly HubSpotFakeProperty[];
  } = {},
): Promise<HubSpotFake> {
  const accessToken = options.accessToken ?? "hubspot-fake-token";
  const properties = options.properties ?? defaultHubSpotProperties;
  const contacts = new Map<string, HubSpotFakeContact>();
  const lists = new Map<string, HubSpotFakeList>(
    (options.lists ?? defaultLists).map((list) => [list.listId, { ...list, members: new Set<string>() }]),
  );
  const scripted = new ScriptedAnswers<Scripted>();
  const state: FakeState = { contacts, lists, properties, nextId: 1001 };
  const receiver = await startReceiver((req, res, body) => {
    const script = scripted.take(req.url ?? "");
    let answer: FakeAnswer;
    if (script !== undefined) {
      answer = scriptedAnswer(script);
    } else if (req.headers.authorization !== `Bearer ${accessToken}`) {
      answer = error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.");
    } else {
      answer = route(req, body, state);
    }
    sendAnswer(res, answer, "application/json;charset=utf-8");
  });
  return {
    origin: receiver.origin,
    accessToken,
    requests: receiver.requests,
    contacts,
    lists,
    failNext(failure, scriptOptions = {}) {
      const { retryAfterSeconds = 1, status = 502 } = scriptOptions;
      scripted.add({ failure, retryAfterSeconds, status }, scriptOptions);
    },
    close: () => receiver.close(),
  };
}

const defaultLists: readonly Omit<HubSpotFakeList, "members">[] = [
  { listId: "101", name: "Newsletter", processingType: "MANUAL", objectTypeId: "0-1" },
  { listId: "102", name: "Trial users", processingType: "SNAPSHOT", objectTypeId: "0-1" },
  { listId: "103", name: "Active customers", processingType: "DYNAMIC", objectTypeId: "0-1" },
  { listId: "104", name: "Target companies", processingType: "MANUAL", objectTypeId: "0-2" },
];

interface FakeState {
  readonly contacts: Map<string, HubSpotFakeContact>;
  readonly lists: Map<string, HubSpotFakeList>;
  readonly properties: readonly HubSpotFakeProperty[];
  nextId: number;
}

function route(req: IncomingMessage, body: Buffer, state: FakeState): FakeAnswer {
  const url = new URL(req.url ?? "/", "http://fake");
  const method = req.method ?? "";
  const membership = /^\/crm\/v3\/lists\/([^/]+)\/memberships\/(add|remove)$/.exec(url.pathname);
  if (method === "GET" && url.pathname === "/crm/v3/properties/contacts") return { status: 200, json: { results: state.properties } };
  if (method !== "POST" && method !== "PUT") return notFound(method, url.pathname);
  const json = jsonBody(req, body);
  if (json === undefined) return error(400, "VALIDATION_ERROR", "Invalid input JSON: the body must be JSON sent as application/json");
  if (method === "POST" && url.pathname === "/crm/v3/objects/contacts/batch/upsert") return upsert(json, state);
  if (method === "POST" && url.pathname === "/crm/v3/lists/search") return searchLists(json, state);
  if (method === "PUT" && membership !== null) {
    return changeMembership(decodeURIComponent(membership[1] as string), membership[2] as "add" | "remove", json, state);
  }
  return notFound(method, url.pathname);
}

function upsert(json: unknown, state: FakeState): FakeAnswer {
  const inputs = (json as Json | null)?.inputs;
  if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > 100) {
    return error(400, "VALIDATION_ERROR", "inputs must be an array of 1 to 100 items");
  }
  for (const input of inputs) {
    const problem = upsertInputProblem(input, state.properties);
    if (problem !== undefined) return problem;
  }
  const results = (inputs as { id: string; properties: Record<string, string> }[]).map((input) => {
    const key = input.id.toLowerCase();
    const existing = state.contacts.get(key);
    const id = existing?.id ?? String(state.nextId++);
    const contact = { id, properties: { ...existing?.properties, ...input.properties, email: input.id } };
    state.contacts.set(key, contact);
    return { id, new: existing === undefined, archived: false, properties: contact.properties };
  });
  const now = new Date().toISOString();
  return { status: 200, json: { status: "COMPLETE", results, startedAt: now, completedAt: now } };
}

function upsertInputProblem(input: unknown, properties: readonly HubSpotFakeProperty[]): FakeAnswer | undefined {
  const item = input as Json | null;
  if (typeof item !== "object" || item === null || item.idProperty !== "email" || typeof item.id !== "string" || item.id === "") {
    return error(400, "VALIDATION_ERROR", "each input needs idProperty and id");
  }
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(item.id)) {
    return error(400, "VALIDATION_ERROR", `Email address ${item.id} is invalid`, [{ code: "INVALID_EMAIL", propertyName: "email" }]);
  }
  const values = item.properties;
  if (typeof values !== "object" || values === null || Array.isArray(values))
    return error(400, "VALIDATION_ERROR", "properties must be an object");
  for (const [name, value] of Object.entries(values)) {
    const property = properties.find((p) => p.name === name);
    if (property === undefined) {
      return error(400, "VALIDATION_ERROR", `Property "${name}" does not exist`, [{ code: "PROPERTY_DOESNT_EXIST", propertyName: name }]);
    }
    if (property.modificationMetadata?.readOnlyValue === true) {
      return error(400, "VALIDATION_ERROR", `"${name}" is a read only property`, [{ code: "READ_ONLY_VALUE", propertyName: name }]);
    }
    if (typeof value !== "string")
      return error(400, "VALIDATION_ERROR", `${name} must be a string`, [{ code: "INVALID_TYPE", propertyName: name }]);
  }
  return undefined;
}

function changeMembership(listId: string, change: "add" | "remove", json: unknown, state: FakeState): FakeAnswer {
  const list = state.lists.get(listId);
  if (list === undefined) return error(404, "OBJECT_NOT_FOUND", `List does not exist with id ${listId}`);
  if (list.processingType === "DYNAMIC") {
    return error(400, "VALIDATION_ERROR", `List ${listId} is DYNAMIC: memberships cannot be changed`, [
      { code: "INVALID_LIST_PROCESSING_TYPE" },
    ]);
  }
  if (!Array.isArray(json) || !json.every((id) => typeof id === "string")) {
    return error(400, "VALIDATION_ERROR", "the body must be a JSON array of record ids");
  }
  const known = new Set([...state.contacts.values()].map((c) => c.id));
  const missing = json.filter((id) => !known.has(id) || (change === "remove" && !list.members.has(id)));
  const changed = json.filter((id) => !missing.includes(id));
  for (const id of changed) {
    if (change === "add") list.members.add(id);
    else list.members.delete(id);
  }
  return { status: 200, json: { [change === "add" ? "recordIdsAdded" : "recordIdsRemoved"]: changed, recordIdsMissing: missing } };
}

function searchLists(json: unknown, state: FakeState): FakeAnswer {
  const request = (json ?? {}) as Json;
  const count = typeof request.count === "number" ? request.count : 20;
  const offset = typeof request.offset === "number" ? request.offset : 0;
  if (count < 1 || count > 500) return error(400, "VALIDATION_ERROR", "count must be between 1 and 500");
  const types = Array.isArray(request.processingTypes) ? request.processingTypes : undefined;
  const query = typeof request.query === "string" ? request.query.toLowerCase() : "";
  const matching = [...state.lists.values()].filter(
    (list) => (types === undefined || types.includes(list.processingType)) && list.name.toLowerCase().includes(query),
  );
  const page = matching.slice(offset, offset + count).map(({ members, ...list }) => ({
    ...list,
    additionalProperties: { hs_list_size: String(members.size) },
  }));
  return {
    status: 200,
    json: { lists: page, hasMore: offset + count < matching.length, offset: offset + page.length, total: matching.length },
  };
}

function scriptedAnswer(script: Scripted): FakeAnswer {
  switch (script.failure) {
    case "validation":
      return error(400, "VALIDATION_ERROR", "Property values were not valid", [{ code: "INVALID_OPTION", propertyName: "lifecyclestage" }]);
    case "unauthorized":
      return error(401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired.");
    case "missing_scopes":
      return {
        status: 403,
        json: {
          status: "error",
          message: "This app hasn't been granted all required scopes to make this call.",
          correlationId: "00000000-0000-4000-8000-000000000403",
          category: "MISSING_SCOPES",
          errors: [{ message: "One or more of the following scopes are required.", context: { requiredScopes: ["crm.lists.write"] } }],
        },
      };
    case "rate_limited":
      return {
        status: 429,
        headers: { "Retry-After": String(script.retryAfterSeconds) },
        json: {
          status: "error",
          message: "You have reached your secondly limit.",
          errorType: "RATE_LIMIT",
          correlationId: "00000000-0000-4000-8000-000000000429",
          policyName: "SECONDLY",
        },
      };
    default:
      return error(script.status, "INTERNAL_ERROR", "An internal error occurred.");
  }
}

function error(status: number, category: string, message: string, details: { code?: string; propertyName?: string }[] = []): FakeAnswer {
  return {
    status,
    json: {
      status: "error",
      message,
      correlationId: `00000000-0000-4000-8000-000000000${status}`,
      category,
      ...(details.length === 0
        ? {}
        : {
            errors: details.map((d) => ({
              message,
              ...(d.code === undefined ? {} : { code: d.code }),
              ...(d.propertyName === undefined ? {} : { context: { propertyName: [d.propertyName] } }),
            })),
          }),
    },
  };
}

function notFound(method: string, path: string): FakeAnswer {
  return error(404, "OBJECT_NOT_FOUND", `No route for ${method} ${path}`);
}

function jsonBody(req: IncomingMessage, body: Buffer): unknown {
  if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) return undefined;
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
