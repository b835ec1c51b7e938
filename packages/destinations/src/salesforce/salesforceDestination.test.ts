import { applyMapping } from "@switchyard/mapping";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseAddressPolicy } from "../addressPolicy.js";
import type { DeliveryContext } from "../deliveryContext.js";
import { destinations } from "../destinations.js";
import { ProviderReadError } from "../providers/callProvider.js";
import { type SalesforceFake, startSalesforceFake } from "../testSupport/fakes/salesforceFake.js";
import { deliveryRequestFor, fakeProviderContext, loopbackPolicy, sampleEvent } from "../testSupport/pluginKit.js";
import { concurrentLimitWaitMs, totalLimitWaitMs } from "./salesforceAnswers.js";
import { readSalesforceGrant } from "./salesforceDescription.js";
import { salesforceDestination } from "./salesforceDestination.js";
import { soqlString } from "./soql.js";

let fake: SalesforceFake;
/** The org is reached through the connection's instance_url, as in production (no operator API URL). */
let context: DeliveryContext;
beforeEach(async () => {
  fake = await startSalesforceFake();
  context = { addressPolicy: loopbackPolicy };
});
afterEach(async () => {
  await fake.close();
});

const webinar = "701000000000001AAA";
const mapped = { Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace" };
const secrets = () => ({ access_token: fake.accessToken, instance_url: fake.origin });
const connection = () => ({ id: "conn_sf", metadata: {}, secrets: secrets() });

function deliver(
  action: string,
  ruleMetadata: Record<string, unknown>,
  overrides: { mapped?: Record<string, unknown>; secrets?: unknown } = {},
) {
  const request = deliveryRequestFor({
    action,
    ruleMetadata,
    metadata: {},
    secrets: overrides.secrets ?? secrets(),
    mapped: overrides.mapped ?? mapped,
  });
  return salesforceDestination.deliver(request, context);
}

function requestLines(): string[] {
  return fake.requests.map((r) => {
    const url = new URL(r.path, "http://x");
    const q = url.searchParams.get("q");
    return `${r.method} ${url.pathname.replace("/services/data/v60.0", "")}${q === null ? "" : ` ${q}`}`;
  });
}

function bodyOf(index: number): unknown {
  const request = fake.requests[index];
  if (request === undefined) throw new Error(`no request ${index}`);
  return JSON.parse(request.body.toString("utf8"));
}

function contactByEmail(email: string) {
  return [...fake.contacts.values()].find((c) => c.Email === email);
}

describe("description, OAuth and registration", () => {
  it("when the plugins are listed, then salesforce is registered as an OAuth integration with Meshes' actions", () => {
    expect(destinations.get("salesforce")).toBe(salesforceDestination);
    const { description, oauth } = salesforceDestination;
    expect(description.authentication).toEqual({ type: "oauth", oauth: { version: 2 } });
    expect(description.actions.map((a) => a.key)).toEqual(["add_to_campaign", "remove_from_campaign", "update_property"]);
    expect(oauth).toMatchObject({
      authorizeUrl: "https://login.salesforce.com/services/oauth2/authorize",
      tokenUrl: "https://login.salesforce.com/services/oauth2/token",
      scopes: ["api", "refresh_token"],
    });
    expect(description.secret_fields).toContain("secrets.instance_url");
  });

  it("when Salesforce's token answer is read, then instance_url goes to the secrets and the org and user ids to the metadata", () => {
    const grant = readSalesforceGrant({
      access_token: "00D!x",
      instance_url: "https://acme.my.salesforce.com",
      id: "https://login.salesforce.com/id/00D5g000004ABCDEAW/0055g000003XYZQAA4",
      token_type: "Bearer",
    });
    expect(grant).toEqual({
      metadata: { organization_id: "00D5g000004ABCDEAW", user_id: "0055g000003XYZQAA4" },
      secrets: { instance_url: "https://acme.my.salesforce.com" },
    });
    expect(readSalesforceGrant({ access_token: "x" })).toEqual({});
  });

  it("when the default mapping is applied to Meshes' payload fields, then it writes the Contact's field names", () => {
    const result = applyMapping(
      salesforceDestination.defaultMapping as NonNullable<typeof salesforceDestination.defaultMapping>,
      sampleEvent.payload,
    );
    expect(result).toEqual({ ok: true, output: { Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace" }, warnings: [] });
  });
  it("when the payload has no email, then the default mapping leaves it out and the attempt is a mapping failure naming it", async () => {
    const schema = salesforceDestination.defaultMapping as NonNullable<typeof salesforceDestination.defaultMapping>;
    const result = applyMapping(schema, { first_name: "Ada" });
    expect(result.ok && result.output).toEqual({ FirstName: "Ada" });
    const facts = await deliver("add_to_campaign", { id: webinar }, { mapped: result.ok ? result.output : {} });
    expect(facts).toMatchObject({ failure: "mapping", message: expect.stringContaining('"Email"') });
    expect(fake.requests).toHaveLength(0);
  });
});

describe("parseConfig", () => {
  const policy = parseAddressPolicy("");
  it("when the OAuth callback sends the tokens, the instance URL and the grant's ids, then they are kept", () => {
    const result = salesforceDestination.parseConfig(
      {
        metadata: { organization_id: "00D5g000004ABCDEAW" },
        secrets: { access_token: "00D!abc", refresh_token: "5Aep!r", instance_url: "https://acme.my.salesforce.com/" },
      },
      policy,
    );
    expect(result).toEqual({
      ok: true,
      metadata: { organization_id: "00D5g000004ABCDEAW" },
      secrets: { access_token: "00D!abc", refresh_token: "5Aep!r", instance_url: "https://acme.my.salesforce.com" },
    });
  });

  it.each([
    ["an http instance URL", { access_token: "a", instance_url: "http://acme.my.salesforce.com" }, "secrets.instance_url"],
    ["an instance URL with a path", { access_token: "a", instance_url: "https://acme.my.salesforce.com/x" }, "secrets.instance_url"],
    ["an instance URL that is not a URL", { access_token: "a", instance_url: "acme" }, "secrets.instance_url"],
    ["no access token", { instance_url: "https://acme.my.salesforce.com" }, "secrets.access_token"],
  ])("when the secrets have %s, then they are refused naming it", (_what, sent, param) => {
    const result = salesforceDestination.parseConfig({ metadata: {}, secrets: sent }, policy);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.param)).toEqual([param]);
  });

  it("when the metadata has an unknown key or a bad id, then it is refused naming each", () => {
    const result = salesforceDestination.parseConfig(
      { metadata: { org: "x", user_id: "not an id" }, secrets: { access_token: "a" } },
      policy,
    );
    expect(result).toEqual({
      ok: false,
      errors: [
        { param: "metadata.org", msg: "is not a known property" },
        { param: "metadata.user_id", msg: expect.stringContaining("Salesforce id") },
      ],
    });
  });
});

describe("SOQL string literals", () => {
  it.each([
    ["plain", "ada@example.com", "'ada@example.com'"],
    ["a quote", "o'brien@example.com", "'o\\'brien@example.com'"],
    ["a backslash and a quote", "a\\' OR Email != '", "'a\\\\\\' OR Email != \\''"],
    ["a double quote and a line break", 'a"b\nc', "'a\\\"b\\nc'"],
    ["a control character", "a\u0001b", "'a\\u0001b'"],
  ])("when a value has %s, then it is escaped so it cannot end the literal", (_what, value, literal) => {
    expect(soqlString(value)).toBe(literal);
  });
});

describe("deliver: requests", () => {
  it("when add_to_campaign runs for a new email, then the Contact is looked up, created with the mapped fields and made a member", async () => {
    const facts = await deliver("add_to_campaign", { id: webinar });

    expect(facts.httpStatus).toBe(201);
    expect(facts.providerOutcome).toBeUndefined();
    expect(requestLines()).toEqual([
      "GET /query SELECT Id FROM Contact WHERE Email = 'ada@example.com' ORDER BY CreatedDate ASC LIMIT 1",
      "POST /sobjects/Contact",
      "POST /sobjects/CampaignMember",
    ]);
    for (const request of fake.requests) expect(request.headers.authorization).toBe(`Bearer ${fake.accessToken}`);
    expect(bodyOf(1)).toEqual(mapped);
    const contact = contactByEmail("ada@example.com");
    expect(bodyOf(2)).toEqual({ CampaignId: webinar, ContactId: contact?.Id });
    expect([...fake.campaignMembers.values()]).toEqual([{ CampaignId: webinar, ContactId: contact?.Id }]);
    expect(facts.request?.headers.Authorization).toBe("[redacted]");
  });

  it("when the Contact exists, then it is updated in place (PATCH) and no Contact is created", async () => {
    const id = fake.addContact({ Email: "ADA@example.com", LastName: "L" });
    const facts = await deliver("add_to_campaign", { id: webinar }, { mapped: { Email: "ada@example.com", FirstName: "Ada" } });

    expect(facts.httpStatus).toBe(201);
    expect(requestLines()[1]).toBe(`PATCH /sobjects/Contact/${id}`);
    expect(bodyOf(1)).toEqual({ Email: "ada@example.com", FirstName: "Ada" });
    expect(fake.contacts.size).toBe(1);
    expect(fake.contacts.get(id)).toMatchObject({ FirstName: "Ada", LastName: "L" });
  });

  it("when the email has a quote and a backslash, then the query escapes them and still finds the Contact", async () => {
    const email = "o'b\\rien@example.com";
    const id = fake.addContact({ Email: email, LastName: "O'Brien" });
    const facts = await deliver("update_property", { id: "FirstName", value: "Pat" }, { mapped: { Email: email } });
    expect(facts.httpStatus).toBe(204);
    expect(requestLines()[0]).toBe(
      "GET /query SELECT Id FROM Contact WHERE Email = 'o\\'b\\\\rien@example.com' ORDER BY CreatedDate ASC LIMIT 1",
    );
    expect(fake.contacts.get(id)?.FirstName).toBe("Pat");
  });

  it("when the Contact is already a member (DUPLICATE_VALUE), then the attempt is delivered", async () => {
    await deliver("add_to_campaign", { id: webinar });
    const facts = await deliver("add_to_campaign", { id: webinar });
    expect(facts.httpStatus).toBe(400);
    expect(facts.providerOutcome).toBe("delivered");
    expect(facts.message).toContain("DUPLICATE_VALUE");
    expect(fake.campaignMembers.size).toBe(1);
  });

  it("when remove_from_campaign runs for a member, then its CampaignMember is found and deleted", async () => {
    await deliver("add_to_campaign", { id: webinar });
    const [memberId] = [...fake.campaignMembers.keys()];
    const contactId = contactByEmail("ada@example.com")?.Id;
    fake.requests.length = 0;
    const facts = await deliver("remove_from_campaign", { id: webinar });

    expect(facts.httpStatus).toBe(204);
    expect(requestLines()).toEqual([
      "GET /query SELECT Id FROM Contact WHERE Email = 'ada@example.com' ORDER BY CreatedDate ASC LIMIT 1",
      `PATCH /sobjects/Contact/${contactId}`,
      `GET /query SELECT Id FROM CampaignMember WHERE CampaignId = '${webinar}' AND ContactId = '${contactId}' LIMIT 1`,
      `DELETE /sobjects/CampaignMember/${memberId}`,
    ]);
    expect(fake.campaignMembers.size).toBe(0);
  });

  it("when remove_from_campaign runs for a Contact that is not a member, then it is delivered without a delete", async () => {
    fake.addContact({ Email: "ada@example.com", LastName: "Lovelace" });
    const facts = await deliver("remove_from_campaign", { id: webinar });
    expect(facts.httpStatus).toBe(200);
    expect(facts.message).toContain("not a member");
    expect(requestLines().some((line) => line.startsWith("DELETE"))).toBe(false);
  });

  it("when the CampaignMember is gone before the delete (404), then the attempt is delivered", async () => {
    await deliver("add_to_campaign", { id: webinar });
    fake.failNext("not_found", { path: "/sobjects/CampaignMember/" });
    const facts = await deliver("remove_from_campaign", { id: webinar });
    expect(requestLines().at(-1)).toMatch(/^DELETE \/sobjects\/CampaignMember\//);
    expect(facts).toMatchObject({ httpStatus: 404, providerOutcome: "delivered" });
  });

  it("when update_property runs, then the field is set in the Contact write itself, rendered against the payload", async () => {
    const facts = await deliver("update_property", { id: "LeadSource", value: "{{plan.tier}}" });
    expect(facts.httpStatus).toBe(201);
    expect(requestLines()).toHaveLength(2);
    expect(bodyOf(1)).toEqual({ ...mapped, LeadSource: "pro" });
  });

  it("when mapped values are numbers, booleans, null and lists, then they are sent as JSON (lists joined by ;)", async () => {
    fake.addContact({ Email: "ada@example.com", LastName: "L" });
    await deliver(
      "update_property",
      { id: "FirstName", value: "Ada" },
      {
        mapped: { Email: "ada@example.com", Score__c: 4.5, HasOptedOutOfEmail: false, Phone: null, Interests__c: ["CRM", "Email"] },
      },
    );
    expect(bodyOf(1)).toEqual({
      Email: "ada@example.com",
      Score__c: 4.5,
      HasOptedOutOfEmail: false,
      Phone: null,
      Interests__c: "CRM;Email",
      FirstName: "Ada",
    });
  });

  it("when the operator sets SWITCHYARD_SALESFORCE_API_URL, then it replaces the connection's instance_url", async () => {
    context = fakeProviderContext("salesforce", { apiUrl: fake.origin });
    const facts = await deliver(
      "update_property",
      { id: "FirstName", value: "Ada" },
      { secrets: { access_token: fake.accessToken, instance_url: "https://acme.my.salesforce.com" } },
    );
    expect(facts.httpStatus).toBe(201);
  });
});

describe("deliver: answers", () => {
  it("when a new Contact has no mapped LastName, then it is a mapping failure naming LastName and nothing is created", async () => {
    const facts = await deliver("add_to_campaign", { id: webinar }, { mapped: { Email: "new@example.com" } });
    expect(facts.failure).toBe("mapping");
    expect(facts.message).toContain('"LastName"');
    expect(requestLines()).toHaveLength(1);
    expect(fake.contacts.size).toBe(0);
  });

  it("when Salesforce answers a validation error, then the status is reported with the code and field, not the message", async () => {
    fake.failNext("validation", { path: "/sobjects/Contact" });
    const facts = await deliver("add_to_campaign", { id: webinar });
    expect(facts.httpStatus).toBe(400);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toBe("Salesforce answered 400 to the Contact create: FIELD_CUSTOM_VALIDATION_EXCEPTION (fields: Phone)");
  });

  it("when a mapped field does not exist on Contact, then Salesforce's INVALID_FIELD is reported naming it", async () => {
    const facts = await deliver("add_to_campaign", { id: webinar }, { mapped: { ...mapped, Colour__c: "blue" } });
    expect(facts.httpStatus).toBe(400);
    expect(facts.message).toContain("INVALID_FIELD (fields: Colour__c)");
    expect(facts.message).not.toContain("blue");
  });

  it("when the session has expired (401 INVALID_SESSION_ID), then the status is 401, read by the worker as auth_failed", async () => {
    fake.failNext("unauthorized");
    const facts = await deliver("add_to_campaign", { id: webinar });
    expect(facts.httpStatus).toBe(401);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toContain("INVALID_SESSION_ID");
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ["TotalRequests Limit exceeded.", totalLimitWaitMs],
    ["ConcurrentPerOrgLongTxn Limit exceeded.", concurrentLimitWaitMs],
  ])("when Salesforce answers 403 REQUEST_LIMIT_EXCEEDED (%s), then it is rate_limited with a chosen wait", async (message, wait) => {
    fake.failNext("request_limit", { message });
    const facts = await deliver("add_to_campaign", { id: webinar });
    expect(facts).toMatchObject({ httpStatus: 403, providerOutcome: "rate_limited", retryAfterMs: wait });
  });

  it.each([
    ["server_unavailable", 503],
    ["server_error", 500],
  ] as const)("when Salesforce answers %s, then the status is reported (retried by the worker)", async (failure, status) => {
    fake.failNext(failure);
    const facts = await deliver("update_property", { id: "FirstName", value: "x" });
    expect(facts.httpStatus).toBe(status);
  });

  it("when a row lock is contended (400 UNABLE_TO_LOCK_ROW), then it is a server error, retried", async () => {
    fake.failNext("row_lock", { path: "/sobjects/CampaignMember" });
    const facts = await deliver("add_to_campaign", { id: webinar });
    expect(facts).toMatchObject({ httpStatus: 400, providerOutcome: "rejected_server_error" });
  });

  it("when the campaign does not exist, then Salesforce's 400 is reported, final", async () => {
    const facts = await deliver("add_to_campaign", { id: "701000000000999AAA" });
    expect(facts.httpStatus).toBe(400);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toContain("INVALID_CROSS_REFERENCE_KEY (fields: CampaignId)");
  });
});

describe("deliver: failures before sending", () => {
  it.each([
    ["no Email", { LastName: "Lovelace" }, '"Email"'],
    ["an object value", { Email: "ada@example.com", MailingAddress: { city: "London" } }, '"MailingAddress"'],
  ])("when the mapping produced %s, then it is a mapping failure naming the field", async (_what, fields, named) => {
    const facts = await deliver("add_to_campaign", { id: webinar }, { mapped: fields });
    expect(facts.failure).toBe("mapping");
    expect(facts.message).toContain(named);
    expect(fake.requests).toHaveLength(0);
  });

  it("when update_property's template cannot be rendered, then it is a mapping failure", async () => {
    const facts = await deliver("update_property", { id: "FirstName", value: "{% if %}" });
    expect(facts).toMatchObject({ failure: "mapping", message: expect.stringContaining("metadata.value") });
  });

  it("when the connection has no instance_url and no operator API URL is set, then it is an internal failure", async () => {
    const facts = await deliver("add_to_campaign", { id: webinar }, { secrets: { access_token: fake.accessToken } });
    expect(facts).toMatchObject({ failure: "internal", message: expect.stringContaining("instance_url") });
  });
});

describe("loadActionData and loadFields", () => {
  it("when action data is loaded, then active campaigns and updateable Contact fields (with picklist values) are offered", async () => {
    const data = await salesforceDestination.loadActionData?.(connection(), context);
    const campaigns = [
      { id: "701000000000002AAA", label: "Newsletter" },
      { id: webinar, label: "Webinar" },
    ];
    expect(data?.add_to_campaign).toEqual(campaigns);
    expect(data?.remove_from_campaign).toEqual(campaigns);
    const fields = data?.update_property ?? [];
    expect(fields.map((f) => f.id)).toEqual([
      "Email",
      "FirstName",
      "LastName",
      "Phone",
      "LeadSource",
      "Interests__c",
      "Score__c",
      "HasOptedOutOfEmail",
      "Birthdate",
    ]);
    expect(fields.find((f) => f.id === "LeadSource")?.options).toEqual([
      { label: "Web", value: "Web" },
      { label: "Partner", value: "Partner" },
    ]);
    expect(requestLines()).toContain("GET /query SELECT Id, Name FROM Campaign WHERE IsActive = true ORDER BY Name LIMIT 2000");
  });

  it("when fields are loaded, then describe's types, lengths, writability and picklists become field definitions", async () => {
    const fields = (await salesforceDestination.loadFields?.(connection(), context)) ?? [];
    const byKey = new Map(fields.map((f) => [f.key, f]));
    expect(byKey.get("Email")).toMatchObject({ type: "string", constraints: { format: "email", required: true, max_length: 80 } });
    expect(byKey.get("LastName")).toMatchObject({ type: "string", constraints: { required: true, max_length: 80 } });
    expect(byKey.get("Phone")).toMatchObject({ type: "string", constraints: { format: "phone", max_length: 40 } });
    expect(byKey.get("LeadSource")).toMatchObject({ type: "enum", constraints: { allowed_values: ["Web", "Partner"] } });
    expect(byKey.get("Interests__c")).toMatchObject({ type: "multi_enum", constraints: { allowed_values: ["CRM", "Email"] } });
    expect(byKey.get("Score__c")?.type).toBe("number");
    expect(byKey.get("HasOptedOutOfEmail")).toMatchObject({ type: "boolean" });
    expect(byKey.get("HasOptedOutOfEmail")?.constraints).toBeUndefined();
    expect(byKey.get("Birthdate")?.type).toBe("date");
    expect(byKey.get("CreatedDate")).toMatchObject({ type: "datetime", constraints: { read_only: true } });
    expect(byKey.get("Id")?.constraints?.read_only).toBe(true);
    expect(byKey.get("External_Key__c")?.constraints?.read_only).toBeUndefined();
    expect(requestLines()).toEqual(["GET /sobjects/Contact/describe"]);
  });

  it("when Salesforce refuses the read, then a ProviderReadError names Salesforce and the status", async () => {
    fake.failNext("unauthorized");
    await expect(salesforceDestination.loadFields?.(connection(), context)).rejects.toThrow(ProviderReadError);
    fake.failNext("unauthorized");
    await expect(salesforceDestination.loadFields?.(connection(), context)).rejects.toThrow(/Salesforce answered 401/);
  });
});
