import { createHash } from "node:crypto";
import { applyMapping } from "@switchyard/mapping";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { destinations } from "../destinations.js";
import { ProviderReadError } from "../providers/callProvider.js";
import { ruleMetadataProblems } from "../providers/ruleInputs.js";
import { type MailchimpFake, mailchimpSubscriberHash, startMailchimpFake } from "../testSupport/fakes/mailchimpFake.js";
import { deliveryRequestFor, fakeProviderContext, loopbackPolicy, sampleEvent } from "../testSupport/pluginKit.js";
import { mailchimpDestination } from "./mailchimpDestination.js";

const key = "0123456789abcdef0123456789abcdef-us21";
let fake: MailchimpFake;
beforeEach(async () => {
  fake = await startMailchimpFake({ apiKey: key });
});
afterEach(async () => {
  await fake.close();
});

const context = () => fakeProviderContext("mailchimp", { apiUrl: fake.apiUrl });
const connection = { metadata: { data_center: "us21" }, secrets: { api_key: key } };
const md5 = (text: string) => createHash("md5").update(text, "utf8").digest("hex");

function deliver(action: string, options: { list?: string; mapped?: Record<string, unknown>; secrets?: unknown } = {}) {
  const request = deliveryRequestFor({
    action,
    ruleMetadata: options.list === undefined ? { id: "list_1" } : { id: options.list },
    metadata: connection.metadata,
    secrets: options.secrets ?? connection.secrets,
    mapped: options.mapped ?? { email_address: "Ada@Example.com", FNAME: "Ada", LNAME: "Lovelace" },
  });
  return mailchimpDestination.deliver(request, context());
}

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

function basicPassword(header: string | string[] | undefined): string | undefined {
  const match = /^Basic (.+)$/.exec(String(header));
  return match?.[1] === undefined ? undefined : Buffer.from(match[1], "base64").toString("utf8").split(":").slice(1).join(":");
}

function member(email: string, list = "list_1") {
  return fake.lists.get(list)?.members.get(mailchimpSubscriberHash(email));
}

describe("mailchimp add_to_list", () => {
  it("when the registry is asked for mailchimp, then it answers this plugin", () => {
    expect(destinations.get("mailchimp")).toBe(mailchimpDestination);
  });

  it("when a contact is added, then one PUT upserts the member by the MD5 of the lower-cased email, with Basic auth and merge fields", async () => {
    const facts = await deliver("add_to_list");

    const received = only(fake.requests);
    expect(received.method).toBe("PUT");
    expect(received.path).toBe(`/3.0/lists/list_1/members/${md5("ada@example.com")}`);
    expect(basicPassword(received.headers.authorization)).toBe(key);
    expect(received.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(received.body.toString("utf8"))).toEqual({
      email_address: "Ada@Example.com",
      status_if_new: "subscribed",
      merge_fields: { FNAME: "Ada", LNAME: "Lovelace" },
    });
    expect(facts).toMatchObject({ httpStatus: 200 });
    expect(facts.failure).toBeUndefined();
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.request?.headers.Authorization).toBe("[redacted]");
    expect(JSON.stringify(facts)).not.toContain(Buffer.from(`switchyard:${key}`).toString("base64"));
    expect(member("ada@example.com")).toMatchObject({ status: "subscribed", merge_fields: { FNAME: "Ada", LNAME: "Lovelace" } });
  });

  it("when the mapping wrote only the email (under email), then the member is sent without merge fields", async () => {
    await deliver("add_to_list", { mapped: { email: "grace@example.com", PHONE: null } });
    expect(JSON.parse(only(fake.requests).body.toString("utf8"))).toEqual({
      email_address: "grace@example.com",
      status_if_new: "subscribed",
    });
  });

  it("when the member exists and had unsubscribed, then its merge fields are updated and it stays unsubscribed", async () => {
    fake.lists.get("list_1")?.members.set(mailchimpSubscriberHash("ada@example.com"), {
      email_address: "ada@example.com",
      status: "unsubscribed",
      merge_fields: { FNAME: "A" },
    });
    const facts = await deliver("add_to_list");
    expect(facts.httpStatus).toBe(200);
    expect(member("ada@example.com")).toMatchObject({ status: "unsubscribed", merge_fields: { FNAME: "Ada", LNAME: "Lovelace" } });
  });

  it("when the member was archived by a remove, then a second PUT sets it subscribed again", async () => {
    await deliver("add_to_list");
    await deliver("remove_from_list");
    expect(member("ada@example.com")?.status).toBe("archived");

    const facts = await deliver("add_to_list");

    const [, , upsert, restore] = fake.requests;
    expect(fake.requests).toHaveLength(4);
    expect(upsert?.method).toBe("PUT");
    expect(restore?.method).toBe("PUT");
    expect(restore?.path).toBe(`/3.0/lists/list_1/members/${md5("ada@example.com")}`);
    expect(JSON.parse(restore?.body.toString("utf8") ?? "")).toEqual({ email_address: "Ada@Example.com", status: "subscribed" });
    expect(facts.httpStatus).toBe(200);
    expect(member("ada@example.com")?.status).toBe("subscribed");
  });

  it("when an archived member had unsubscribed, then Mailchimp's compliance refusal is the outcome (400, final)", async () => {
    fake.lists.get("list_1")?.members.set(mailchimpSubscriberHash("ada@example.com"), {
      email_address: "ada@example.com",
      status: "archived",
      status_before_archive: "unsubscribed",
      merge_fields: {},
    });
    const facts = await deliver("add_to_list");
    expect(facts.httpStatus).toBe(400);
    expect(facts.message).toBe("Mailchimp answered 400 Member In Compliance State");
    expect(member("ada@example.com")?.status).toBe("archived");
  });

  it("when the audience requires a merge field the mapping lacks, then the 400 names the field, not the email", async () => {
    fake.lists.get("list_1")?.mergeFields.push({ tag: "COMPANY", name: "Company", type: "text", required: true });
    const facts = await deliver("add_to_list");
    expect(facts.httpStatus).toBe(400);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toBe("Mailchimp answered 400 Invalid Resource (fields: COMPANY)");
  });
});

describe("mailchimp remove_from_list", () => {
  it("when a member is removed, then it is archived with one DELETE", async () => {
    await deliver("add_to_list");
    const facts = await deliver("remove_from_list");
    const removal = fake.requests[1];
    expect(fake.requests).toHaveLength(2);
    expect(removal?.method).toBe("DELETE");
    expect(removal?.path).toBe(`/3.0/lists/list_1/members/${md5("ada@example.com")}`);
    expect(basicPassword(removal?.headers.authorization)).toBe(key);
    expect(removal?.body).toHaveLength(0);
    expect(facts.httpStatus).toBe(204);
    expect(member("ada@example.com")?.status).toBe("archived");
  });

  it("when the contact is not a member, then the audience is checked and the attempt is delivered (nothing to remove)", async () => {
    const facts = await deliver("remove_from_list");
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `DELETE /3.0/lists/list_1/members/${md5("ada@example.com")}`,
      "GET /3.0/lists/list_1?fields=id",
    ]);
    expect(facts).toMatchObject({ httpStatus: 404, providerOutcome: "delivered" });
  });

  it("when the audience does not exist, then the 404 stays a client error (final)", async () => {
    const facts = await deliver("remove_from_list", { list: "gone" });
    expect(fake.requests).toHaveLength(2);
    expect(facts.httpStatus).toBe(404);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toBe("Mailchimp answered 404: the audience does not exist");
  });

  it("when checking the audience is rate limited, then that answer is the outcome (retried)", async () => {
    const pending = deliver("remove_from_list");
    fake.failNext({ status: 404 });
    fake.failNext({ status: 429, retryAfter: "3" });
    const facts = await pending;
    expect(facts).toMatchObject({ httpStatus: 429, retryAfterMs: 3_000 });
    expect(facts.providerOutcome).toBeUndefined();
  });
});

describe("mailchimp answer classes", () => {
  it.each([
    [
      { status: 400, title: "Forgotten Email Not Subscribed", detail: "ada@example.com was permanently deleted" },
      "Forgotten Email Not Subscribed",
    ],
    [{ status: 400, title: "Invalid Resource", detail: "ada@example.com looks fake or invalid" }, "Invalid Resource"],
    [{ status: 401, title: "API Key Invalid" }, "API Key Invalid"],
    [{ status: 403, title: "User Disabled" }, "User Disabled"],
    [{ status: 500, title: "Internal Server Error" }, "Internal Server Error"],
    [{ status: 503, title: "Service Unavailable" }, "Service Unavailable"],
  ])("when Mailchimp answers %j, then the status decides and the message has the title, not the detail", async (failure, title) => {
    fake.failNext(failure);
    const facts = await deliver("add_to_list");
    expect(facts.httpStatus).toBe(failure.status);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toBe(`Mailchimp answered ${failure.status} ${title}`);
    expect(facts.message).not.toContain("ada@");
  });

  it("when Mailchimp answers 429 with Retry-After, then the delay is reported", async () => {
    fake.failNext({
      status: 429,
      title: "Too Many Requests",
      detail: "You have exceeded the limit of 10 simultaneous connections.",
      retryAfter: "7",
    });
    const facts = await deliver("add_to_list");
    expect(facts).toMatchObject({ httpStatus: 429, retryAfterMs: 7_000, message: "Mailchimp answered 429 Too Many Requests" });
  });

  it("when the stored key is not the account's, then the fake's 401 comes back", async () => {
    const facts = await deliver("add_to_list", { secrets: { api_key: "ffffffffffffffffffffffffffffffff-us21" } });
    expect(facts).toMatchObject({ httpStatus: 401, message: "Mailchimp answered 401 API Key Invalid" });
  });
});

describe("mailchimp failures before sending", () => {
  it.each([
    [{ FNAME: "Ada" }, "the mapping produced no email_address: map the payload's email onto email_address"],
    [{ email_address: 42 }, "the mapped email_address is not text"],
    [{ email_address: "not an email" }, "the mapped email_address is not an email address"],
  ])("when the mapped fields are %j, then the attempt is a mapping failure and nothing is sent", async (mapped, message) => {
    const facts = await deliver("add_to_list", { mapped });
    expect(facts).toEqual({ failure: "mapping", message, durationMs: 0 });
    expect(fake.requests).toHaveLength(0);
  });

  it("when the rule has no audience id, then the attempt is a mapping failure", async () => {
    const request = deliveryRequestFor({
      action: "remove_from_list",
      metadata: connection.metadata,
      secrets: connection.secrets,
      mapped: { email_address: "a@b.co" },
    });
    const facts = await mailchimpDestination.deliver(request, context());
    expect(facts).toMatchObject({ failure: "mapping", message: "the rule's metadata.id (the audience) is required by remove_from_list" });
    expect(fake.requests).toHaveLength(0);
  });

  it("when the action is not Mailchimp's, then the attempt is a mapping failure", async () => {
    const facts = await deliver("send_message");
    expect(facts).toMatchObject({
      failure: "mapping",
      message: 'Mailchimp has no action "send_message" (it has: add_to_list, remove_from_list)',
    });
  });

  it("when the stored config has no key, then the attempt is an internal failure (retried)", async () => {
    const facts = await deliver("add_to_list", { secrets: {} });
    expect(facts.failure).toBe("internal");
    expect(fake.requests).toHaveLength(0);
  });

  it("when the rule's metadata lacks the audience, then the rule check names metadata.id", () => {
    expect(ruleMetadataProblems(mailchimpDestination.description, { action: "add_to_list" })).toEqual([
      { param: "metadata.id", msg: "is required by the add_to_list action (Audience)" },
    ]);
  });
});

describe("mailchimp catalog", () => {
  it("when the audiences are loaded, then every page of GET /lists is read and both actions list them", async () => {
    for (let i = 2; i <= 1001; i += 1)
      fake.lists.set(`list_${i}`, { id: `list_${i}`, name: `Audience ${i}`, mergeFields: [], members: new Map() });
    const data = await mailchimpDestination.loadActionData?.({ id: "c1", ...connection }, context());
    expect(fake.requests.map((r) => r.path)).toEqual([
      "/3.0/lists?count=1000&offset=0&fields=lists.id,lists.name,total_items",
      "/3.0/lists?count=1000&offset=1000&fields=lists.id,lists.name,total_items",
    ]);
    expect(data?.add_to_list).toHaveLength(1001);
    expect(data?.add_to_list?.[0]).toEqual({ id: "list_1", label: "Newsletter" });
    expect(data?.remove_from_list).toEqual(data?.add_to_list);
  });

  it("when the fields are loaded, then they are the email and the union of the audiences' merge fields", async () => {
    fake.lists.set("list_2", {
      id: "list_2",
      name: "Customers",
      members: new Map(),
      mergeFields: [
        { tag: "FNAME", name: "First Name", type: "text", required: true },
        { tag: "PLAN", name: "Plan", type: "dropdown", required: true, choices: ["free", "pro"] },
      ],
    });
    const fields = await mailchimpDestination.loadFields?.({ id: "c1", ...connection }, context());
    expect(fake.requests.map((r) => r.path)).toEqual([
      "/3.0/lists?count=1000&offset=0&fields=lists.id,lists.name,total_items",
      "/3.0/lists/list_1/merge-fields?count=1000&fields=merge_fields.tag,merge_fields.name,merge_fields.type,merge_fields.required,merge_fields.options.choices",
      "/3.0/lists/list_2/merge-fields?count=1000&fields=merge_fields.tag,merge_fields.name,merge_fields.type,merge_fields.required,merge_fields.options.choices",
    ]);
    expect(fields?.map((f) => f.key)).toEqual(["email_address", "FNAME", "LNAME", "ADDRESS", "PHONE", "BIRTHDAY", "PLAN"]);
    expect(fields?.find((f) => f.key === "FNAME")).toEqual({
      key: "FNAME",
      label: "First Name",
      type: "string",
      provider_meta: { merge_type: "text", lists: ["list_1", "list_2"], required_in: ["list_2"] },
    });
    expect(fields?.find((f) => f.key === "PHONE")?.constraints).toEqual({ format: "phone" });
    expect(fields?.find((f) => f.key === "PLAN")).toMatchObject({
      type: "enum",
      constraints: { allowed_values: ["free", "pro"] },
      provider_meta: { lists: ["list_2"] },
    });
  });

  it("when every audience requires a merge field, then the catalog marks it required", async () => {
    const list = fake.lists.get("list_1");
    list?.mergeFields.splice(0, list.mergeFields.length, { tag: "FNAME", name: "First Name", type: "text", required: true });
    const fields = await mailchimpDestination.loadFields?.({ id: "c1", ...connection }, context());
    expect(fields?.find((f) => f.key === "FNAME")?.constraints).toEqual({ required: true });
  });

  it("when the account has no audiences, then the catalog is the fields a new audience starts with", async () => {
    fake.lists.clear();
    const fields = await mailchimpDestination.loadFields?.({ id: "c1", ...connection }, context());
    expect(fields).toEqual(mailchimpDestination.description.fields);
  });

  it("when Mailchimp refuses the key, then the read fails with a ProviderReadError naming Mailchimp and the status", async () => {
    const read = mailchimpDestination.loadActionData?.({ id: "c1", ...connection, secrets: { api_key: "wrong-us21" } }, context());
    await expect(read).rejects.toBeInstanceOf(ProviderReadError);
    await expect(read).rejects.toThrow(/^Mailchimp answered 401: /);
  });
});

describe("mailchimp default mapping", () => {
  it("when the default mapping is applied to a payload, then it writes the email and the names, skipping an absent phone", () => {
    const result = applyMapping(mailchimpDestination.defaultMapping ?? { schema_version: 1, fields: [] }, sampleEvent.payload);
    expect(result).toEqual({ ok: true, output: { email_address: "ada@example.com", FNAME: "Ada", LNAME: "Lovelace" }, warnings: [] });
  });

  it("when the payload has no email, then the mapping leaves email_address out and the attempt names it (mapping failure)", async () => {
    const result = applyMapping(mailchimpDestination.defaultMapping ?? { schema_version: 1, fields: [] }, { first_name: "Ada" });
    expect(result).toEqual({ ok: true, output: { FNAME: "Ada" }, warnings: [] });
    const facts = await deliver("add_to_list", { mapped: result.ok ? result.output : {} });
    expect(facts).toMatchObject({
      failure: "mapping",
      message: "the mapping produced no email_address: map the payload's email onto email_address",
    });
  });
});

describe("mailchimp documented example", () => {
  it("when the default mapping gains PLAN from plan.tier, upper-cased, then the member gets the documented merge fields", async () => {
    const base = mailchimpDestination.defaultMapping ?? { schema_version: 1 as const, fields: [] };
    const mapping = {
      ...base,
      fields: [
        ...base.fields,
        { dest: "PLAN", source: { type: "path" as const, value: "plan.tier" }, transforms: [{ type: "upper" as const }] },
      ],
    };
    const result = applyMapping(mapping, { email: "ada@example.com", first_name: "Ada", plan: { tier: "pro" } });
    await deliver("add_to_list", { mapped: result.ok ? result.output : {} });
    expect(only(fake.requests).body.toString("utf8")).toBe(
      '{"email_address":"ada@example.com","status_if_new":"subscribed","merge_fields":{"FNAME":"Ada","PLAN":"PRO"}}',
    );
  });
});

describe("mailchimp parseConfig", () => {
  const ajv = new Ajv2020({ allErrors: true, validateFormats: false });
  const metadataSchema = ajv.compile(mailchimpDestination.description.metadata_schema);
  const secretsSchema = ajv.compile(mailchimpDestination.description.secrets_schema);
  const parse = (metadata: unknown, secrets?: unknown, previous?: { metadata: { data_center: string }; secrets: { api_key: string } }) =>
    mailchimpDestination.parseConfig({ metadata, secrets, ...(previous === undefined ? {} : { previous }) }, loopbackPolicy);

  it.each([
    [{}, { api_key: key }, "us21"],
    [{ data_center: "us21" }, { api_key: key }, "us21"],
    [{ data_center: "us6" }, { api_key: "0123456789abcdef" }, "us6"],
    [{ data_center: "" }, { api_key: "abc-us3" }, "us3"],
  ])("when metadata %j comes with secrets %j, then the data center is %s and the key stays secret", (metadata, secrets, dataCenter) => {
    const result = parse(metadata, secrets);
    expect(result).toEqual({ ok: true, metadata: { data_center: dataCenter }, secrets });
    expect(secretsSchema(secrets)).toBe(true);
    if (result.ok) expect(metadataSchema(result.metadata)).toBe(true);
  });

  // The last column: whether the schemas alone refuse it too (rules between fields are parseConfig's).
  it.each([
    [{}, {}, "secrets.api_key", "is required", false],
    [
      {},
      { api_key: "0123456789abcdef" },
      "metadata.data_center",
      "is required when the API key does not end in -<data center> (such as -us21)",
      false,
    ],
    [
      { data_center: "us6" },
      { api_key: key },
      "metadata.data_center",
      "differs from the API key's data center (us21); a key only works in its own",
      false,
    ],
    [
      { data_center: "us21.evil.example" },
      { api_key: "k" },
      "metadata.data_center",
      "must be a Mailchimp data center such as us21 (lower case)",
      true,
    ],
    [{ data_center: "US21" }, { api_key: "k" }, "metadata.data_center", "must be a Mailchimp data center such as us21 (lower case)", true],
    [{ api_url: "https://x" }, { api_key: key }, "metadata.api_url", "is not a known property", true],
    [{}, { api_key: key, token: "t" }, "secrets.token", "is not a known property", true],
    [{}, { api_key: "has space-us21" }, "secrets.api_key", "must be printable ASCII without spaces", true],
    [{}, { api_key: 7 }, "secrets.api_key", "must be a string", true],
  ])("when metadata %j comes with secrets %j, then %s is refused: %s", (metadata, secrets, param, msg, schemaRefuses) => {
    const result = parse(metadata, secrets);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContainEqual({ param, msg });
    expect(!(metadataSchema(metadata) && secretsSchema(secrets))).toBe(schemaRefuses);
  });

  it("when metadata is not an object, then it is refused", () => {
    expect(parse("us21", { api_key: key })).toEqual({ ok: false, errors: [{ param: "metadata", msg: "must be an object" }] });
  });

  it("when an update sends no key, then the stored key is kept and the data center derived from it again", () => {
    const previous = { metadata: { data_center: "us21" }, secrets: { api_key: key } };
    expect(parse({}, undefined, previous)).toEqual({ ok: true, metadata: { data_center: "us21" }, secrets: { api_key: key } });
    expect(parse({}, { api_key: "new-us4" }, previous)).toEqual({
      ok: true,
      metadata: { data_center: "us4" },
      secrets: { api_key: "new-us4" },
    });
  });

  it("when the secret fields are listed, then they are exactly the secrets schema's properties", () => {
    expect(mailchimpDestination.description.secret_fields).toEqual(["secrets.api_key"]);
    expect(Object.keys(mailchimpDestination.description.secrets_schema.properties as object)).toEqual(["api_key"]);
  });
});
