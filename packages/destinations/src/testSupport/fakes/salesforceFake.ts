import type { IncomingMessage } from "node:http";
import { type ReceivedRequest, startReceiver } from "../startReceiver.js";
import { type FakeAnswer, ScriptedAnswers, sendAnswer } from "./fakeAnswers.js";

/**
 * A local Salesforce org for tests: a real HTTP server on 127.0.0.1 serving the REST API (v60.0) requests the
 * Salesforce plugin sends, as Salesforce documents them, with Contacts, Campaigns and CampaignMembers in memory:
 *
 * - `GET /services/data/v60.0/query?q=`: exactly three SOQL shapes (Contact by Email; CampaignMember by CampaignId
 *   and ContactId; active Campaigns by Name), string literals unescaped as SOQL does; anything else MALFORMED_QUERY.
 * - `POST /sobjects/Contact` (LastName required), `PATCH /sobjects/Contact/{Id}`: known, writable fields only.
 * - `POST /sobjects/CampaignMember` `{CampaignId, ContactId}` (DUPLICATE_VALUE when already a member),
 *   `DELETE /sobjects/CampaignMember/{Id}`.
 * - `GET /sobjects/Contact/describe`.
 *
 * Every request needs `Authorization: Bearer <accessToken>` (else 401 INVALID_SESSION_ID). Errors are Salesforce's
 * JSON array `[{message, errorCode, fields}]`. `failNext` scripts the next answers. Salesforce signals its API
 * limits with 403 REQUEST_LIMIT_EXCEEDED, not with a 429, so that is the rate limit this fake answers.
 */
export interface SalesforceFake {
  /** `http://127.0.0.1:<port>`: the org's instance URL in tests (`instance_url`, or `SWITCHYARD_SALESFORCE_API_URL`). */
  readonly origin: string;
  readonly accessToken: string;
  readonly requests: ReceivedRequest[];
  /** Contacts by Id. */
  readonly contacts: Map<string, Record<string, unknown>>;
  /** Campaigns by Id. */
  readonly campaigns: Map<string, SalesforceFakeCampaign>;
  /** CampaignMembers by Id. */
  readonly campaignMembers: Map<string, { readonly CampaignId: string; readonly ContactId: string }>;
  /** Adds a Contact as if it were already in the org; returns its Id. */
  addContact(fields: Record<string, unknown>): string;
  /**
   * The next request (whose path contains `path`, if given) gets this answer instead, `times` times (default 1).
   * `request_limit` answers 403 REQUEST_LIMIT_EXCEEDED with `message` (default "TotalRequests Limit exceeded.").
   */
  failNext(failure: SalesforceFakeFailure, options?: { path?: string; times?: number; message?: string }): void;
  close(): Promise<void>;
}

/** `not_found`: 404 NOT_FOUND, as for a record deleted meanwhile. */
export type SalesforceFakeFailure =
  | "validation"
  | "unauthorized"
  | "request_limit"
  | "row_lock"
  | "not_found"
  | "server_unavailable"
  | "server_error";

export interface SalesforceFakeCampaign {
  readonly Id: string;
  readonly Name: string;
  readonly IsActive: boolean;
}

/** A Contact field as describe answers it (the parts the plugin reads). */
export interface SalesforceFakeField {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly length: number;
  readonly updateable: boolean;
  readonly createable: boolean;
  readonly nillable: boolean;
  readonly defaultedOnCreate: boolean;
  readonly picklistValues: readonly { readonly value: string; readonly label: string; readonly active: boolean }[];
}

const field = (name: string, type: string, options: Partial<SalesforceFakeField> = {}): SalesforceFakeField => ({
  name,
  label: name.replace(/__c$/, "").replace(/([a-z])([A-Z])/g, "$1 $2"),
  type,
  length: type === "string" || type === "email" || type === "phone" ? 80 : 0,
  updateable: true,
  createable: true,
  nillable: true,
  defaultedOnCreate: false,
  picklistValues: [],
  ...options,
});
const pick = (value: string, active = true) => ({ value, label: value, active });

/** The Contact fields every fake org has: standard ones used here, a picklist, a multi-select and read-only ones. */
export const defaultSalesforceFields: readonly SalesforceFakeField[] = [
  field("Id", "id", { updateable: false, createable: false, nillable: false, defaultedOnCreate: true, length: 18 }),
  field("Email", "email"),
  field("FirstName", "string", { length: 40 }),
  field("LastName", "string", { nillable: false }),
  field("Phone", "phone", { length: 40 }),
  field("LeadSource", "picklist", { length: 255, picklistValues: [pick("Web"), pick("Partner"), pick("Retired", false)] }),
  field("Interests__c", "multipicklist", { length: 4099, picklistValues: [pick("CRM"), pick("Email")] }),
  field("Score__c", "double"),
  field("HasOptedOutOfEmail", "boolean", { nillable: false, defaultedOnCreate: true }),
  field("Birthdate", "date"),
  field("CreatedDate", "datetime", { updateable: false, createable: false, nillable: false, defaultedOnCreate: true }),
  field("External_Key__c", "string", { updateable: false, length: 20 }),
];

interface Scripted {
  readonly failure: SalesforceFakeFailure;
  readonly message: string | undefined;
}

interface OrgState {
  readonly contacts: Map<string, Record<string, unknown>>;
  readonly campaigns: Map<string, SalesforceFakeCampaign>;
  readonly campaignMembers: Map<string, { readonly CampaignId: string; readonly ContactId: string }>;
  readonly fields: readonly SalesforceFakeField[];
  nextId: number;
}

const apiPrefix = "/services/data/v60.0";

export async function startSalesforceFake(
  options: {
    readonly accessToken?: string;
    readonly campaigns?: readonly SalesforceFakeCampaign[];
    readonly fields?: readonly SalesforceFakeField[];
  } = {},
): Promise<SalesforceFake> {
  const accessToken = options.accessToken ?? "00Dfake!salesforce-token";
  const state: OrgState = {
    contacts: new Map(),
    campaigns: new Map((options.campaigns ?? defaultCampaigns).map((c) => [c.Id, c])),
    campaignMembers: new Map(),
    fields: options.fields ?? defaultSalesforceFields,
    nextId: 1,
  };
  const scripted = new ScriptedAnswers<Scripted>();
  const receiver = await startReceiver((req, res, body) => {
    const script = scripted.take(req.url ?? "");
    let answer: FakeAnswer;
    if (script !== undefined) {
      answer = scriptedAnswer(script);
    } else if (req.headers.authorization !== `Bearer ${accessToken}`) {
      answer = errors(401, "INVALID_SESSION_ID", "Session expired or invalid");
    } else {
      answer = route(req, body, state);
    }
    sendAnswer(res, answer, "application/json;charset=UTF-8");
  });
  return {
    origin: receiver.origin,
    accessToken,
    requests: receiver.requests,
    contacts: state.contacts,
    campaigns: state.campaigns,
    campaignMembers: state.campaignMembers,
    addContact(fields) {
      const id = newId("003", state);
      state.contacts.set(id, { ...fields, Id: id });
      return id;
    },
    failNext(failure, scriptOptions = {}) {
      scripted.add({ failure, message: scriptOptions.message }, scriptOptions);
    },
    close: () => receiver.close(),
  };
}

const defaultCampaigns: readonly SalesforceFakeCampaign[] = [
  { Id: "701000000000001AAA", Name: "Webinar", IsActive: true },
  { Id: "701000000000002AAA", Name: "Newsletter", IsActive: true },
  { Id: "701000000000003AAA", Name: "Old launch", IsActive: false },
];

/** An 18-character id with Salesforce's key prefix (003 Contact, 00v CampaignMember). */
function newId(prefix: string, state: OrgState): string {
  return `${prefix}${String(state.nextId++).padStart(12, "0")}AAA`;
}

function route(req: IncomingMessage, body: Buffer, state: OrgState): FakeAnswer {
  const url = new URL(req.url ?? "/", "http://fake");
  const method = req.method ?? "";
  if (!url.pathname.startsWith(`${apiPrefix}/`)) return errors(404, "NOT_FOUND", "The requested resource does not exist");
  const path = url.pathname.slice(apiPrefix.length);
  const contact = /^\/sobjects\/Contact\/([A-Za-z0-9]{15,18})$/.exec(path);
  const member = /^\/sobjects\/CampaignMember\/([A-Za-z0-9]{15,18})$/.exec(path);
  if (method === "GET" && path === "/query") return query(url.searchParams.get("q") ?? "", state);
  if (method === "GET" && path === "/sobjects/Contact/describe") return { status: 200, json: { name: "Contact", fields: state.fields } };
  if (method === "DELETE" && member !== null) return deleteMember(member[1] as string, state);
  if (method !== "POST" && method !== "PATCH") return errors(404, "NOT_FOUND", "The requested resource does not exist");
  const json = jsonBody(req, body);
  if (json === undefined) return errors(400, "JSON_PARSER_ERROR", "The body must be a JSON object sent as application/json");
  if (method === "POST" && path === "/sobjects/Contact") return createContact(json, state);
  if (method === "PATCH" && contact !== null) return updateContact(contact[1] as string, json, state);
  if (method === "POST" && path === "/sobjects/CampaignMember") return createMember(json, state);
  return errors(404, "NOT_FOUND", "The requested resource does not exist");
}

const literal = "'((?:[^'\\\\]|\\\\.)*)'";
const contactByEmail = new RegExp(`^SELECT Id FROM Contact WHERE Email = ${literal}(?: ORDER BY CreatedDate ASC)?(?: LIMIT (\\d+))?$`);
const memberByIds = new RegExp(`^SELECT Id FROM CampaignMember WHERE CampaignId = ${literal} AND ContactId = ${literal}(?: LIMIT \\d+)?$`);
const activeCampaigns = /^SELECT Id, Name FROM Campaign WHERE IsActive = true ORDER BY Name(?: LIMIT \d+)?$/;

function query(soql: string, state: OrgState): FakeAnswer {
  const records = (type: string, rows: Record<string, unknown>[]) => ({
    status: 200,
    json: {
      totalSize: rows.length,
      done: true,
      records: rows.map((row) => ({ attributes: { type, url: `${apiPrefix}/sobjects/${type}/${String(row.Id)}` }, ...row })),
    },
  });
  let match = contactByEmail.exec(soql);
  if (match !== null) {
    const email = unescapeSoql(match[1] as string);
    if (email === undefined) return malformed();
    const rows = [...state.contacts.values()].filter((c) => typeof c.Email === "string" && c.Email.toLowerCase() === email.toLowerCase());
    return records(
      "Contact",
      rows.slice(0, Number(match[2] ?? rows.length)).map((c) => ({ Id: c.Id })),
    );
  }
  match = memberByIds.exec(soql);
  if (match !== null) {
    const [campaignId, contactId] = [unescapeSoql(match[1] as string), unescapeSoql(match[2] as string)];
    if (campaignId === undefined || contactId === undefined) return malformed();
    const rows = [...state.campaignMembers.entries()].filter(([, m]) => m.CampaignId === campaignId && m.ContactId === contactId);
    return records(
      "CampaignMember",
      rows.map(([Id]) => ({ Id })),
    );
  }
  if (activeCampaigns.test(soql)) {
    const rows = [...state.campaigns.values()].filter((c) => c.IsActive).sort((a, b) => a.Name.localeCompare(b.Name));
    return records(
      "Campaign",
      rows.map(({ Id, Name }) => ({ Id, Name })),
    );
  }
  return malformed();
}

/** A SOQL string literal's value, or undefined for an escape SOQL does not define. */
function unescapeSoql(text: string): string | undefined {
  const simple: Record<string, string> = {
    n: "\n",
    N: "\n",
    r: "\r",
    R: "\r",
    t: "\t",
    T: "\t",
    f: "\f",
    F: "\f",
    b: "\b",
    B: "\b",
    '"': '"',
    "'": "'",
    "\\": "\\",
  };
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char !== "\\") {
      out += char;
      continue;
    }
    const next = text[i + 1] ?? "";
    if (next === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
      i += 5;
    } else if (simple[next] !== undefined) {
      out += simple[next];
      i += 1;
    } else return undefined;
  }
  return out;
}

function writeProblem(json: Record<string, unknown>, state: OrgState, mode: "createable" | "updateable"): FakeAnswer | undefined {
  for (const [name, value] of Object.entries(json)) {
    const known = state.fields.find((f) => f.name === name);
    if (known === undefined) return errors(400, "INVALID_FIELD", `No such column '${name}' on sobject of type Contact`, [name]);
    if (!known[mode]) return errors(400, "INVALID_FIELD_FOR_INSERT_UPDATE", `Unable to create/update fields: ${name}.`, [name]);
    if (value !== null && typeof value === "object") return errors(400, "JSON_PARSER_ERROR", `Cannot deserialize ${name}`, [name]);
  }
  const email = json.Email;
  if (typeof email === "string" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    return errors(400, "INVALID_EMAIL_ADDRESS", `Email: invalid email address: ${email}`, ["Email"]);
  }
  return undefined;
}

function createContact(json: Record<string, unknown>, state: OrgState): FakeAnswer {
  const problem = writeProblem(json, state, "createable");
  if (problem !== undefined) return problem;
  if (typeof json.LastName !== "string" || json.LastName.trim() === "") {
    return errors(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"]);
  }
  const id = newId("003", state);
  state.contacts.set(id, { ...json, Id: id });
  return { status: 201, json: { id, success: true, errors: [] } };
}

function updateContact(id: string, json: Record<string, unknown>, state: OrgState): FakeAnswer {
  const existing = state.contacts.get(id);
  if (existing === undefined) return errors(404, "NOT_FOUND", "The requested resource does not exist");
  const problem = writeProblem(json, state, "updateable");
  if (problem !== undefined) return problem;
  state.contacts.set(id, { ...existing, ...json, Id: id });
  return { status: 204 };
}

function createMember(json: Record<string, unknown>, state: OrgState): FakeAnswer {
  const { CampaignId, ContactId, ...rest } = json;
  if (Object.keys(rest).length > 0) return errors(400, "INVALID_FIELD", "Unexpected fields", Object.keys(rest));
  if (typeof CampaignId !== "string" || !state.campaigns.has(CampaignId)) {
    return errors(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["CampaignId"]);
  }
  if (typeof ContactId !== "string" || !state.contacts.has(ContactId)) {
    return errors(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["ContactId"]);
  }
  const duplicate = [...state.campaignMembers.values()].some((m) => m.CampaignId === CampaignId && m.ContactId === ContactId);
  if (duplicate) return errors(400, "DUPLICATE_VALUE", "Already a campaign member.");
  const id = newId("00v", state);
  state.campaignMembers.set(id, { CampaignId, ContactId });
  return { status: 201, json: { id, success: true, errors: [] } };
}

function deleteMember(id: string, state: OrgState): FakeAnswer {
  if (!state.campaignMembers.delete(id)) return errors(404, "ENTITY_IS_DELETED", "entity is deleted");
  return { status: 204 };
}

function scriptedAnswer(script: Scripted): FakeAnswer {
  switch (script.failure) {
    case "validation":
      return errors(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Phone must start with +", ["Phone"]);
    case "unauthorized":
      return errors(401, "INVALID_SESSION_ID", "Session expired or invalid");
    case "request_limit":
      return errors(403, "REQUEST_LIMIT_EXCEEDED", script.message ?? "TotalRequests Limit exceeded.");
    case "row_lock":
      return errors(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record");
    case "not_found":
      return errors(404, "NOT_FOUND", "The requested resource does not exist");
    case "server_unavailable":
      return errors(503, "SERVER_UNAVAILABLE", "Server is temporarily unavailable");
    default:
      return errors(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred.");
  }
}

function errors(status: number, errorCode: string, message: string, fields: readonly string[] = []): FakeAnswer {
  return { status, json: [{ message, errorCode, fields }] };
}

function malformed(): FakeAnswer {
  return errors(400, "MALFORMED_QUERY", "unexpected token");
}

function jsonBody(req: IncomingMessage, body: Buffer): Record<string, unknown> | undefined {
  if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) return undefined;
  try {
    const json = JSON.parse(body.toString("utf8")) as unknown;
    return typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
