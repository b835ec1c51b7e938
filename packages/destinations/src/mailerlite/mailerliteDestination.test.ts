import { applyMapping } from "@switchyard/mapping";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { destinations } from "../destinations.js";
import { ProviderReadError } from "../providers/callProvider.js";
import { ruleMetadataProblems } from "../providers/ruleInputs.js";
import { type MailerliteFake, startMailerliteFake } from "../testSupport/fakes/mailerliteFake.js";
import { deliveryRequestFor, fakeProviderContext, loopbackPolicy, sampleEvent } from "../testSupport/pluginKit.js";
import { mailerliteDestination } from "./mailerliteDestination.js";

const key = "ml-test-token";
let fake: MailerliteFake;
beforeEach(async () => {
  fake = await startMailerliteFake({ apiKey: key });
});
afterEach(async () => {
  await fake.close();
});

const context = () => fakeProviderContext("mailerlite", { apiUrl: fake.apiUrl });
const connection = { metadata: {}, secrets: { api_key: key } };

function deliver(action: string, options: { group?: string; mapped?: Record<string, unknown>; secrets?: unknown } = {}) {
  const request = deliveryRequestFor({
    action,
    ruleMetadata: { id: options.group ?? "1001" },
    metadata: connection.metadata,
    secrets: options.secrets ?? connection.secrets,
    mapped: options.mapped ?? { email: "ada+news@example.com", name: "Ada", last_name: "Lovelace" },
  });
  return mailerliteDestination.deliver(request, context());
}

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

function seed(email: string, status = "active", groups: string[] = ["1001"]) {
  fake.subscribers.set(email, { id: "42", email, status, fields: { name: "A" }, groups: new Set(groups) });
}

describe("mailerlite add_to_group", () => {
  it("when the registry is asked for mailerlite, then it answers this plugin", () => {
    expect(destinations.get("mailerlite")).toBe(mailerliteDestination);
  });

  it("when a contact is added, then one POST /subscribers upserts it with its fields and the group, with the Bearer token", async () => {
    const facts = await deliver("add_to_group");

    const received = only(fake.requests);
    expect(received.method).toBe("POST");
    expect(received.path).toBe("/api/subscribers");
    expect(received.headers.authorization).toBe(`Bearer ${key}`);
    expect(received.headers["content-type"]).toBe("application/json");
    expect(received.headers.accept).toBe("application/json");
    expect(JSON.parse(received.body.toString("utf8"))).toEqual({
      email: "ada+news@example.com",
      fields: { name: "Ada", last_name: "Lovelace" },
      groups: ["1001"],
    });
    expect(facts).toMatchObject({ httpStatus: 201 });
    expect(facts.failure).toBeUndefined();
    expect(facts.message).toBeUndefined();
    expect(facts.request?.headers.Authorization).toBe("[redacted]");
    expect(JSON.stringify(facts)).not.toContain(key);
    const stored = fake.subscribers.get("ada+news@example.com");
    expect(stored).toMatchObject({ status: "active", fields: { name: "Ada", last_name: "Lovelace" } });
    expect([...(stored?.groups ?? [])]).toEqual(["1001"]);
  });

  it("when the subscriber exists in other groups and unsubscribed, then it keeps them and its status, and joins the group (200)", async () => {
    fake.groups.set("2002", { id: "2002", name: "Customers" });
    seed("ada+news@example.com", "unsubscribed", ["1001"]);
    const facts = await deliver("add_to_group", { group: "2002", mapped: { email: "ada+news@example.com" } });
    expect(JSON.parse(only(fake.requests).body.toString("utf8"))).toEqual({ email: "ada+news@example.com", groups: ["2002"] });
    expect(facts.httpStatus).toBe(200);
    const stored = fake.subscribers.get("ada+news@example.com");
    expect(stored?.status).toBe("unsubscribed");
    expect([...(stored?.groups ?? [])]).toEqual(["1001", "2002"]);
    expect(stored?.fields).toEqual({ name: "A" });
  });

  it("when the group does not exist, then the 422 names the field and is a client error (final)", async () => {
    const facts = await deliver("add_to_group", { group: "9999" });
    expect(facts.httpStatus).toBe(422);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toBe("MailerLite answered 422 (fields: groups.0)");
  });
});

describe("mailerlite remove_from_group", () => {
  it("when a subscriber is removed, then it is found by email and unassigned from the group", async () => {
    seed("ada+news@example.com");
    const facts = await deliver("remove_from_group");
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /api/subscribers/ada%2Bnews%40example.com",
      "DELETE /api/subscribers/42/groups/1001",
    ]);
    for (const request of fake.requests) expect(request.headers.authorization).toBe(`Bearer ${key}`);
    expect(facts.httpStatus).toBe(204);
    expect(facts.providerOutcome).toBeUndefined();
    expect(fake.subscribers.get("ada+news@example.com")?.groups.size).toBe(0);
  });

  it("when no subscriber has the email, then nothing is removed and the attempt is delivered", async () => {
    const facts = await deliver("remove_from_group");
    expect(only(fake.requests).method).toBe("GET");
    expect(facts).toMatchObject({
      httpStatus: 404,
      providerOutcome: "delivered",
      message: "no subscriber has this email: nothing to remove",
    });
  });

  it("when the group does not exist, then the unassign's 404 is a client error (final)", async () => {
    seed("ada+news@example.com");
    const facts = await deliver("remove_from_group", { group: "9999" });
    expect(fake.requests).toHaveLength(2);
    expect(facts.httpStatus).toBe(404);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toBe("MailerLite answered 404: Resource not found.");
  });

  it("when finding the subscriber is refused, then that answer is the outcome and nothing is unassigned", async () => {
    seed("ada+news@example.com");
    fake.failNext({ status: 401 });
    const facts = await deliver("remove_from_group");
    expect(only(fake.requests).method).toBe("GET");
    expect(facts).toMatchObject({ httpStatus: 401, message: "MailerLite answered 401: Unauthenticated." });
  });

  it("when the subscriber's answer has no id, then it is reported as MailerLite's fault (retried)", async () => {
    fake.failNext({ status: 200, message: "ok" });
    const facts = await deliver("remove_from_group");
    expect(facts).toMatchObject({ httpStatus: 200, providerOutcome: "rejected_server_error" });
  });
});

describe("mailerlite answer classes", () => {
  it.each([
    [
      { status: 422, message: "The email must be a valid email address.", errors: { email: ["The email must be a valid email address."] } },
      "MailerLite answered 422 (fields: email)",
    ],
    [{ status: 401 }, "MailerLite answered 401: Unauthenticated."],
    [{ status: 403 }, "MailerLite answered 403: This action is unauthorized."],
    [{ status: 500 }, "MailerLite answered 500: Server Error"],
    [{ status: 503 }, "MailerLite answered 503: Service Unavailable"],
  ])("when MailerLite answers %j, then the status decides and the message is %s", async (failure, message) => {
    fake.failNext(failure);
    const facts = await deliver("add_to_group");
    expect(facts.httpStatus).toBe(failure.status);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.retryAfterMs).toBeUndefined();
    expect(facts.message).toBe(message);
  });

  it("when MailerLite answers 429 with Retry-After, then its delay is reported", async () => {
    fake.failNext({ status: 429, retryAfter: "12" });
    const facts = await deliver("add_to_group");
    expect(facts).toMatchObject({ httpStatus: 429, retryAfterMs: 12_000, message: "MailerLite answered 429: Too Many Attempts." });
  });

  it("when a 429 has no Retry-After but X-RateLimit-Remaining is 0, then the attempt waits for the minute window", async () => {
    fake.failNext({ status: 429 });
    const facts = await deliver("add_to_group");
    expect(facts.responseHeaders).toMatchObject({ "x-ratelimit-limit": "120", "x-ratelimit-remaining": "0" });
    expect(facts).toMatchObject({ httpStatus: 429, retryAfterMs: 60_000 });
  });

  it("when the stored token is not the account's, then the fake's 401 comes back", async () => {
    const facts = await deliver("add_to_group", { secrets: { api_key: "other" } });
    expect(facts).toMatchObject({ httpStatus: 401, message: "MailerLite answered 401: Unauthenticated." });
  });
});

describe("mailerlite failures before sending", () => {
  it.each([
    [{ name: "Ada" }, "the mapping produced no email: map the payload's email onto email"],
    [{ email: ["ada@example.com"] }, "the mapped email is not text"],
    [{ email: "ada at example" }, "the mapped email is not an email address"],
  ])("when the mapped fields are %j, then the attempt is a mapping failure and nothing is sent", async (mapped, message) => {
    const facts = await deliver("add_to_group", { mapped });
    expect(facts).toEqual({ failure: "mapping", message, durationMs: 0 });
    expect(fake.requests).toHaveLength(0);
  });

  it("when the rule has no group id, then the attempt is a mapping failure", async () => {
    const request = deliveryRequestFor({ action: "add_to_group", metadata: {}, secrets: connection.secrets, mapped: { email: "a@b.co" } });
    const facts = await mailerliteDestination.deliver(request, context());
    expect(facts).toMatchObject({ failure: "mapping", message: "the rule's metadata.id (the group) is required by add_to_group" });
    expect(fake.requests).toHaveLength(0);
  });

  it("when the action is not MailerLite's, then the attempt is a mapping failure", async () => {
    const facts = await deliver("add_to_list");
    expect(facts).toMatchObject({
      failure: "mapping",
      message: 'MailerLite has no action "add_to_list" (it has: add_to_group, remove_from_group)',
    });
  });

  it("when the stored config has no key, then the attempt is an internal failure (retried)", async () => {
    const facts = await deliver("add_to_group", { secrets: { token: "x" } });
    expect(facts.failure).toBe("internal");
    expect(fake.requests).toHaveLength(0);
  });

  it("when the rule's metadata lacks the group, then the rule check names metadata.id", () => {
    expect(ruleMetadataProblems(mailerliteDestination.description, { action: "remove_from_group", id: "" })).toEqual([
      { param: "metadata.id", msg: "is required by the remove_from_group action (Group)" },
    ]);
  });
});

describe("mailerlite catalog", () => {
  it("when the groups are loaded, then every page of GET /groups is read and both actions list them", async () => {
    for (let i = 2; i <= 150; i += 1) fake.groups.set(String(1000 + i), { id: String(1000 + i), name: `Group ${i}` });
    const data = await mailerliteDestination.loadActionData?.({ id: "c1", ...connection }, context());
    expect(fake.requests.map((r) => r.path)).toEqual(["/api/groups?limit=100&page=1", "/api/groups?limit=100&page=2"]);
    for (const request of fake.requests) expect(request.headers.authorization).toBe(`Bearer ${key}`);
    expect(data?.add_to_group).toHaveLength(150);
    expect(data?.add_to_group?.[0]).toEqual({ id: "1001", label: "Newsletter" });
    expect(data?.remove_from_group).toEqual(data?.add_to_group);
  });

  it("when the fields are loaded, then they are the email and the account's fields by key", async () => {
    fake.fields.push(
      { id: "9", name: "Plan seats", key: "plan_seats", type: "number" },
      { id: "10", name: "Renewal", key: "renewal", type: "date" },
    );
    const fields = await mailerliteDestination.loadFields?.({ id: "c1", ...connection }, context());
    expect(only(fake.requests).path).toBe("/api/fields?limit=100&page=1");
    expect(fields?.map((f) => f.key)).toEqual([
      "email",
      "name",
      "last_name",
      "company",
      "country",
      "city",
      "phone",
      "state",
      "z_i_p",
      "plan_seats",
      "renewal",
    ]);
    expect(fields?.[0]).toEqual({ key: "email", label: "Email", type: "string", constraints: { format: "email", required: true } });
    expect(fields?.find((f) => f.key === "plan_seats")).toEqual({
      key: "plan_seats",
      label: "Plan seats",
      type: "number",
      provider_meta: { field_type: "number", id: "9" },
    });
    expect(fields?.find((f) => f.key === "renewal")?.type).toBe("date");
  });

  it("when MailerLite refuses the token, then the read fails with a ProviderReadError naming MailerLite and the status", async () => {
    const read = mailerliteDestination.loadFields?.({ id: "c1", metadata: {}, secrets: { api_key: "wrong" } }, context());
    await expect(read).rejects.toBeInstanceOf(ProviderReadError);
    await expect(read).rejects.toThrow(/^MailerLite answered 401: /);
  });
});

describe("mailerlite default mapping", () => {
  it("when the default mapping is applied to a payload, then first_name becomes name and an absent phone is left out", () => {
    const result = applyMapping(mailerliteDestination.defaultMapping ?? { schema_version: 1, fields: [] }, {
      ...sampleEvent.payload,
      email: "ada@example.com",
    });
    expect(result).toEqual({ ok: true, output: { email: "ada@example.com", name: "Ada", last_name: "Lovelace" }, warnings: [] });
  });
});

describe("mailerlite documented example", () => {
  it("when the default mapping gains company, then the subscriber gets the documented fields and group", async () => {
    const base = mailerliteDestination.defaultMapping ?? { schema_version: 1 as const, fields: [] };
    const mapping = { ...base, fields: [...base.fields, { dest: "company", source: { type: "path" as const, value: "company" } }] };
    const payload = { email: "ada@example.com", first_name: "Ada", last_name: "Lovelace", company: "Analytical" };
    const result = applyMapping(mapping, payload);
    await deliver("add_to_group", { mapped: result.ok ? result.output : {} });
    expect(only(fake.requests).body.toString("utf8")).toBe(
      '{"email":"ada@example.com","fields":{"name":"Ada","last_name":"Lovelace","company":"Analytical"},"groups":["1001"]}',
    );
  });
});

describe("mailerlite parseConfig", () => {
  const ajv = new Ajv2020({ allErrors: true, validateFormats: false });
  const metadataSchema = ajv.compile(mailerliteDestination.description.metadata_schema);
  const secretsSchema = ajv.compile(mailerliteDestination.description.secrets_schema);
  const parse = (metadata: unknown, secrets?: unknown, previous?: { metadata: Record<string, never>; secrets: { api_key: string } }) =>
    mailerliteDestination.parseConfig({ metadata, secrets, ...(previous === undefined ? {} : { previous }) }, loopbackPolicy);

  it("when a key is sent, then it is kept as the only secret and the metadata is empty", () => {
    expect(parse({}, { api_key: key })).toEqual({ ok: true, metadata: {}, secrets: { api_key: key } });
    expect(metadataSchema({})).toBe(true);
    expect(secretsSchema({ api_key: key })).toBe(true);
  });

  // The last column: whether the schemas alone refuse it too (a key is optional in them: an update may keep the stored one).
  it.each([
    [{}, {}, "secrets.api_key", "is required", false],
    [{}, { api_key: "" }, "secrets.api_key", "must be 1 to 512 characters", true],
    [{}, { api_key: "a".repeat(513) }, "secrets.api_key", "must be 1 to 512 characters", true],
    [{}, { api_key: "tok\nen" }, "secrets.api_key", "must be printable ASCII without spaces", true],
    [{ group: "1001" }, { api_key: key }, "metadata.group", "is not a known property", true],
    [{}, { api_key: key, secret: "s" }, "secrets.secret", "is not a known property", true],
  ])("when metadata %j comes with secrets %j, then %s is refused: %s", (metadata, secrets, param, msg, schemaRefuses) => {
    const result = parse(metadata, secrets);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContainEqual({ param, msg });
    expect(!(metadataSchema(metadata) && secretsSchema(secrets))).toBe(schemaRefuses);
  });

  it("when an update sends no key, then the stored one is kept", () => {
    expect(parse({}, undefined, { metadata: {}, secrets: { api_key: "old" } })).toEqual({
      ok: true,
      metadata: {},
      secrets: { api_key: "old" },
    });
  });

  it("when metadata is not an object, then it is refused", () => {
    expect(parse([], { api_key: key })).toEqual({ ok: false, errors: [{ param: "metadata", msg: "must be an object" }] });
  });
});
