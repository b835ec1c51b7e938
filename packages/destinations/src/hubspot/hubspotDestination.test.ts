import { applyMapping } from "@switchyard/mapping";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseAddressPolicy } from "../addressPolicy.js";
import type { DeliveryContext } from "../deliveryContext.js";
import { destinations } from "../destinations.js";
import { ProviderReadError } from "../providers/callProvider.js";
import { ruleMetadataProblems } from "../providers/ruleInputs.js";
import { type HubSpotFake, startHubSpotFake } from "../testSupport/fakes/hubspotFake.js";
import { deliveryRequestFor, fakeProviderContext, sampleEvent } from "../testSupport/pluginKit.js";
import { hubspotDestination } from "./hubspotDestination.js";

let fake: HubSpotFake;
let context: DeliveryContext;
beforeEach(async () => {
  fake = await startHubSpotFake();
  context = fakeProviderContext("hubspot", { apiUrl: fake.origin });
});
afterEach(async () => {
  await fake.close();
});

const mapped = { email: "ada@example.com", firstname: "Ada", lastname: "Lovelace" };
const connection = () => ({ id: "conn_hubspot", metadata: {}, secrets: { access_token: fake.accessToken } });

function deliver(
  action: string,
  ruleMetadata: Record<string, unknown>,
  overrides: { mapped?: Record<string, unknown>; secrets?: unknown } = {},
) {
  const request = deliveryRequestFor({
    action,
    ruleMetadata,
    metadata: {},
    secrets: overrides.secrets ?? connection().secrets,
    mapped: overrides.mapped ?? mapped,
  });
  return hubspotDestination.deliver(request, context);
}

function bodyOf(index: number): unknown {
  const request = fake.requests[index];
  if (request === undefined) throw new Error(`no request ${index}`);
  return JSON.parse(request.body.toString("utf8"));
}

describe("description and registration", () => {
  it("when the plugins are listed, then hubspot is registered as an OAuth integration with Meshes' actions", () => {
    expect(destinations.get("hubspot")).toBe(hubspotDestination);
    const { description, oauth } = hubspotDestination;
    expect(description.authentication).toEqual({ type: "oauth", oauth: { version: 2 } });
    expect(description.actions.map((a) => a.key)).toEqual(["add_to_list", "remove_from_list", "update_property"]);
    expect(oauth).toMatchObject({
      authorizeUrl: "https://app.hubspot.com/oauth/authorize",
      tokenUrl: "https://api.hubapi.com/oauth/v1/token",
      clientAuth: "client_secret_post",
    });
    expect(oauth?.scopes).toContain("crm.lists.write");
    expect(description.secret_fields).toContain("secrets.access_token");
  });

  it("when a rule is checked against the actions' inputs, then the list or the property and its value are required and the value must be a template", () => {
    const { description } = hubspotDestination;
    expect(ruleMetadataProblems(description, { action: "add_to_list" })).toEqual([
      { param: "metadata.id", msg: expect.stringContaining("required") },
    ]);
    expect(ruleMetadataProblems(description, { action: "update_property", id: "lifecyclestage" })).toEqual([
      { param: "metadata.value", msg: expect.stringContaining("required") },
    ]);
    expect(ruleMetadataProblems(description, { action: "update_property", id: "x", value: "{{ unclosed" })[0]?.param).toBe(
      "metadata.value",
    );
    expect(ruleMetadataProblems(description, { action: "update_property", id: "x", value: "{{ plan.tier }}" })).toEqual([]);
  });

  it("when the default mapping is applied to Meshes' payload fields, then it writes HubSpot's property names and skips what is absent", () => {
    const result = applyMapping(
      hubspotDestination.defaultMapping as NonNullable<typeof hubspotDestination.defaultMapping>,
      sampleEvent.payload,
    );
    expect(result).toEqual({ ok: true, output: { email: "ada@example.com", firstname: "Ada", lastname: "Lovelace" }, warnings: [] });
  });
  it("when the payload has no email, then the default mapping leaves it out and the attempt is a mapping failure naming it", async () => {
    const schema = hubspotDestination.defaultMapping as NonNullable<typeof hubspotDestination.defaultMapping>;
    const result = applyMapping(schema, { first_name: "Ada" });
    expect(result.ok && result.output).toEqual({ firstname: "Ada" });
    const facts = await deliver("add_to_list", { id: "101" }, { mapped: result.ok ? result.output : {} });
    expect(facts).toMatchObject({ failure: "mapping", message: expect.stringContaining('"email"') });
    expect(fake.requests).toHaveLength(0);
  });
});

describe("parseConfig", () => {
  const policy = parseAddressPolicy("");
  it("when the OAuth callback sends the tokens, then they are kept as secrets and the metadata is empty", () => {
    const result = hubspotDestination.parseConfig(
      {
        metadata: {},
        secrets: { access_token: "at-1", refresh_token: "rt-1", expires_at: "2026-12-08T10:00:00+01:00", token_type: "bearer" },
      },
      policy,
    );
    expect(result).toEqual({
      ok: true,
      metadata: {},
      secrets: { access_token: "at-1", refresh_token: "rt-1", expires_at: "2026-12-08T09:00:00.000Z", token_type: "bearer" },
    });
  });

  it("when an update sends a new access token only, then the refresh token is kept", () => {
    const previous = { metadata: {}, secrets: { access_token: "old", refresh_token: "rt-1" } };
    const result = hubspotDestination.parseConfig({ metadata: {}, secrets: { access_token: "new" }, previous }, policy);
    expect(result).toEqual({ ok: true, metadata: {}, secrets: { access_token: "new", refresh_token: "rt-1" } });
  });

  it.each([
    ["no access token", { metadata: {}, secrets: {} }, "secrets.access_token"],
    ["no secrets at all", { metadata: {} }, "secrets.access_token"],
    ["a token with a line break", { metadata: {}, secrets: { access_token: "a\r\nX-Evil: 1" } }, "secrets.access_token"],
    ["an unknown secret", { metadata: {}, secrets: { access_token: "a", api_key: "k" } }, "secrets.api_key"],
    ["a metadata key", { metadata: { portal: "1" }, secrets: { access_token: "a" } }, "metadata.portal"],
    ["an expiry that is not a date", { metadata: {}, secrets: { access_token: "a", expires_at: "soon" } }, "secrets.expires_at"],
  ])("when the config has %s, then it is refused naming the field", (_what, input, param) => {
    const result = hubspotDestination.parseConfig(input, policy);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.param)).toContain(param);
  });
});

describe("deliver: requests", () => {
  it("when add_to_list runs, then the contact is upserted by email with the mapped properties and its record id is added to the list", async () => {
    const facts = await deliver("add_to_list", { id: "101" });

    expect(facts).toMatchObject({ httpStatus: 200 });
    expect(facts.failure).toBeUndefined();
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /crm/v3/objects/contacts/batch/upsert",
      "PUT /crm/v3/lists/101/memberships/add",
    ]);
    const [upsert, membership] = fake.requests;
    expect(upsert?.headers.authorization).toBe(`Bearer ${fake.accessToken}`);
    expect(upsert?.headers["content-type"]).toBe("application/json");
    expect(bodyOf(0)).toEqual({ inputs: [{ idProperty: "email", id: "ada@example.com", properties: mapped }] });
    const contact = fake.contacts.get("ada@example.com");
    expect(contact?.properties).toEqual(mapped);
    expect(membership?.headers.authorization).toBe(`Bearer ${fake.accessToken}`);
    expect(bodyOf(1)).toEqual([contact?.id]);
    expect([...(fake.lists.get("101")?.members ?? [])]).toEqual([contact?.id]);
    expect(facts.request).toMatchObject({ method: "PUT", url: `${fake.origin}/crm/v3/lists/101/memberships/add` });
    expect(facts.request?.headers.Authorization).toBe("[redacted]");
  });

  it("when remove_from_list runs for a member, then the same contact is upserted and removed from the list", async () => {
    await deliver("add_to_list", { id: "102" });
    const id = fake.contacts.get("ada@example.com")?.id;
    const facts = await deliver("remove_from_list", { id: "102" }, { mapped: { ...mapped, firstname: "Augusta Ada" } });

    expect(facts.httpStatus).toBe(200);
    expect(fake.requests.at(-1)?.path).toBe("/crm/v3/lists/102/memberships/remove");
    expect(bodyOf(3)).toEqual([id]);
    expect(fake.lists.get("102")?.members.size).toBe(0);
    expect(fake.contacts.get("ada@example.com")).toEqual({ id, properties: { ...mapped, firstname: "Augusta Ada" } });
  });

  it("when remove_from_list runs for a contact that is not a member, then it is delivered (HubSpot ignores it)", async () => {
    const facts = await deliver("remove_from_list", { id: "101" });
    expect(facts.httpStatus).toBe(200);
    expect(facts.providerOutcome).toBeUndefined();
  });

  it("when update_property sets an option by its value, then exactly that value is sent and stored", async () => {
    const facts = await deliver("update_property", { id: "lifecyclestage", value: "customer" });
    expect(facts.httpStatus).toBe(200);
    expect(fake.requests).toHaveLength(1);
    expect(bodyOf(0)).toEqual({
      inputs: [{ idProperty: "email", id: "ada@example.com", properties: { ...mapped, lifecyclestage: "customer" } }],
    });
    expect(fake.contacts.get("ada@example.com")?.properties.lifecyclestage).toBe("customer");
  });

  it("when update_property's value is a {{path}} template, then the payload's value is set", async () => {
    await deliver("update_property", { id: "lastname", value: "{{plan.tier}}" });
    expect(fake.contacts.get("ada@example.com")?.properties.lastname).toBe("pro");
  });

  it("when mapped values are numbers, booleans, null and lists, then they are sent as HubSpot's text forms", async () => {
    await deliver(
      "update_property",
      { id: "firstname", value: "Ada" },
      {
        mapped: { email: " ada@example.com ", score: 42, newsletter: true, lastname: null, interests: ["crm", "email"] },
      },
    );
    expect(bodyOf(0)).toEqual({
      inputs: [
        {
          idProperty: "email",
          id: "ada@example.com",
          properties: { email: "ada@example.com", score: "42", newsletter: "true", lastname: "", interests: "crm;email", firstname: "Ada" },
        },
      ],
    });
  });
});

describe("deliver: answers", () => {
  it("when HubSpot answers 400 VALIDATION_ERROR, then the status is reported with the category and the property, without values", async () => {
    fake.failNext("validation");
    const facts = await deliver("add_to_list", { id: "101" });
    expect(facts.httpStatus).toBe(400);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toBe("HubSpot answered 400 to the contact upsert: VALIDATION_ERROR (INVALID_OPTION; properties: lifecyclestage)");
    expect(fake.requests).toHaveLength(1);
  });

  it("when a mapped property does not exist in the account, then HubSpot's 400 names it and nothing else is sent", async () => {
    const facts = await deliver("add_to_list", { id: "101" }, { mapped: { ...mapped, favourite_colour: "blue" } });
    expect(facts.httpStatus).toBe(400);
    expect(facts.message).toContain("properties: favourite_colour");
    expect(facts.message).not.toContain("blue");
  });

  it("when the access token has expired (401), then the status is 401, which the worker reads as auth_failed and refreshes", async () => {
    fake.failNext("unauthorized");
    const facts = await deliver("add_to_list", { id: "101" });
    expect(facts.httpStatus).toBe(401);
    expect(facts.message).toContain("EXPIRED_AUTHENTICATION");
  });

  it("when the token lacks a scope (403), then the status is 403 and the message names the scope", async () => {
    fake.failNext("missing_scopes", { path: "/memberships/" });
    const facts = await deliver("add_to_list", { id: "101" });
    expect(facts.httpStatus).toBe(403);
    expect(facts.message).toBe("HubSpot answered 403 to the list membership add: MISSING_SCOPES (scopes required: crm.lists.write)");
  });

  it("when HubSpot answers 429 with Retry-After, then retryAfterMs carries it", async () => {
    fake.failNext("rate_limited", { retryAfterSeconds: 2 });
    const facts = await deliver("add_to_list", { id: "101" });
    expect(facts.httpStatus).toBe(429);
    expect(facts.retryAfterMs).toBe(2000);
    expect(facts.message).toContain("policy SECONDLY");
  });

  it.each([500, 502, 503])("when HubSpot answers %i, then the status is reported (retried by the worker)", async (status) => {
    fake.failNext("server_error", { status });
    const facts = await deliver("update_property", { id: "lastname", value: "x" });
    expect(facts.httpStatus).toBe(status);
  });

  it("when the list membership step fails, then its answer is the attempt's", async () => {
    fake.failNext("server_error", { path: "/memberships/", status: 503 });
    const facts = await deliver("add_to_list", { id: "101" });
    expect(facts.httpStatus).toBe(503);
    expect(facts.message).toContain("the list membership add");
    expect(fake.contacts.has("ada@example.com")).toBe(true);
  });

  it("when the list is dynamic, then HubSpot's 400 is reported", async () => {
    const facts = await deliver("add_to_list", { id: "103" });
    expect(facts.httpStatus).toBe(400);
    expect(facts.message).toContain("INVALID_LIST_PROCESSING_TYPE");
  });

  it("when the list does not exist, then HubSpot's 404 is reported", async () => {
    const facts = await deliver("add_to_list", { id: "999" });
    expect(facts.httpStatus).toBe(404);
  });

  it("when HubSpot is unreachable, then the failure is network and names the step", async () => {
    const closed = fakeProviderContext("hubspot", { apiUrl: "http://127.0.0.1:1" });
    const request = deliveryRequestFor({
      action: "add_to_list",
      ruleMetadata: { id: "101" },
      metadata: {},
      secrets: connection().secrets,
      mapped,
    });
    const facts = await hubspotDestination.deliver(request, closed);
    expect(facts.failure).toBe("network");
    expect(facts.message).toMatch(/^the contact upsert: /);
  });
});

describe("deliver: failures before sending", () => {
  it.each([
    ["no email", { firstname: "Ada" }, '"email"'],
    ["an empty email", { email: "  " }, '"email"'],
    ["an object value", { email: "ada@example.com", address: { city: "London" } }, '"address"'],
  ])("when the mapping produced %s, then it is a mapping failure naming the field and nothing is sent", async (_what, fields, named) => {
    const facts = await deliver("add_to_list", { id: "101" }, { mapped: fields });
    expect(facts.failure).toBe("mapping");
    expect(facts.message).toContain(named);
    expect(fake.requests).toHaveLength(0);
  });

  it("when update_property's template cannot be rendered, then it is a mapping failure", async () => {
    const facts = await deliver("update_property", { id: "lastname", value: "{{ unclosed" });
    expect(facts).toMatchObject({ failure: "mapping", message: expect.stringContaining("metadata.value") });
    expect(fake.requests).toHaveLength(0);
  });

  it("when the rule names no list, then it is a mapping failure", async () => {
    const facts = await deliver("add_to_list", {});
    expect(facts).toMatchObject({ failure: "mapping", message: expect.stringContaining("metadata.id") });
  });

  it("when the action is unknown, then it is a mapping failure", async () => {
    const facts = await deliver("send_message", { id: "101" });
    expect(facts.failure).toBe("mapping");
  });

  it("when the connection has no access token, then it is an internal failure and nothing is sent", async () => {
    const facts = await deliver("add_to_list", { id: "101" }, { secrets: {} });
    expect(facts.failure).toBe("internal");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("loadActionData and loadFields", () => {
  it("when action data is loaded, then the static contact lists and the writable properties (with options) are offered", async () => {
    const data = await hubspotDestination.loadActionData?.(connection(), context);
    const lists = [
      { id: "101", label: "Newsletter" },
      { id: "102", label: "Trial users" },
    ];
    expect(data?.add_to_list).toEqual(lists);
    expect(data?.remove_from_list).toEqual(lists);
    const properties = data?.update_property ?? [];
    expect(properties.map((p) => p.id)).toEqual([
      "email",
      "firstname",
      "lastname",
      "phone",
      "lifecyclestage",
      "interests",
      "score",
      "newsletter",
    ]);
    expect(properties.find((p) => p.id === "lifecyclestage")?.options).toEqual([
      { label: "Lead", value: "lead" },
      { label: "Customer", value: "customer" },
    ]);
    const search = fake.requests.find((r) => r.path === "/crm/v3/lists/search");
    expect(JSON.parse(search?.body.toString() ?? "{}")).toEqual({
      query: "",
      count: 500,
      offset: 0,
      processingTypes: ["MANUAL", "SNAPSHOT"],
    });
  });

  it("when the account has more lists than a page, then every page is read", async () => {
    await fake.close();
    const many = Array.from({ length: 620 }, (_, i) => ({
      listId: String(i + 1),
      name: `List ${i + 1}`,
      processingType: "MANUAL" as const,
      objectTypeId: "0-1",
    }));
    fake = await startHubSpotFake({ lists: many });
    context = fakeProviderContext("hubspot", { apiUrl: fake.origin });
    const data = await hubspotDestination.loadActionData?.(connection(), context);
    expect(data?.add_to_list).toHaveLength(620);
    expect(fake.requests.filter((r) => r.path === "/crm/v3/lists/search")).toHaveLength(2);
  });

  it("when fields are loaded, then HubSpot's types, read-only flags and options become field definitions", async () => {
    const fields = (await hubspotDestination.loadFields?.(connection(), context)) ?? [];
    const byKey = new Map(fields.map((f) => [f.key, f]));
    expect(byKey.get("email")).toMatchObject({ type: "string", constraints: { format: "email", required: true } });
    expect(byKey.get("phone")).toMatchObject({ type: "string", constraints: { format: "phone" } });
    expect(byKey.get("lifecyclestage")).toMatchObject({ type: "enum", constraints: { allowed_values: ["lead", "customer"] } });
    expect(byKey.get("interests")).toMatchObject({ type: "multi_enum", constraints: { allowed_values: ["crm", "email"] } });
    expect(byKey.get("score")?.type).toBe("number");
    expect(byKey.get("newsletter")?.type).toBe("boolean");
    expect(byKey.get("createdate")).toMatchObject({ type: "datetime", constraints: { read_only: true } });
    expect(byKey.get("hs_object_id")).toMatchObject({ type: "number", constraints: { read_only: true } });
    expect(byKey.get("firstname")?.constraints).toBeUndefined();
    expect(fake.requests[0]).toMatchObject({ method: "GET", path: "/crm/v3/properties/contacts" });
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${fake.accessToken}`);
  });

  it("when HubSpot refuses the read, then a ProviderReadError names HubSpot and the status", async () => {
    fake.failNext("unauthorized");
    await expect(hubspotDestination.loadFields?.(connection(), context)).rejects.toThrow(ProviderReadError);
    fake.failNext("unauthorized");
    await expect(hubspotDestination.loadFields?.(connection(), context)).rejects.toThrow(/HubSpot answered 401/);
  });
});
