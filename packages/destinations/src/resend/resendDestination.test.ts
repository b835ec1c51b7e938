import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryRequest } from "../destinationPlugin.js";
import { destinations } from "../destinations.js";
import { ProviderReadError } from "../providers/callProvider.js";
import { ruleMetadataProblems } from "../providers/ruleInputs.js";
import { defaultResendSegments, type ResendFake, type ResendFakeOptions, startResendFake } from "../testSupport/fakes/resendFake.js";
import { deliveryRequestFor, fakeProviderContext, loopbackPolicy } from "../testSupport/pluginKit.js";
import { resendDestination } from "./resendDestination.js";

const fakes: ResendFake[] = [];
async function fake(options?: ResendFakeOptions): Promise<ResendFake> {
  const started = await startResendFake(options);
  fakes.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

const segmentId = defaultResendSegments[0].id;
const mapped = { email: "ada@example.com", first_name: "Ada", last_name: "Lovelace" };

function request(
  resend: ResendFake | string,
  action: string,
  ruleMetadata: Record<string, unknown>,
  overrides: Partial<DeliveryRequest> = {},
): DeliveryRequest {
  const apiKey = typeof resend === "string" ? resend : resend.apiKey;
  return { ...deliveryRequestFor({ action, ruleMetadata, metadata: {}, secrets: { api_key: apiKey }, mapped }), ...overrides };
}

function deliver(resend: ResendFake, req: DeliveryRequest) {
  return resendDestination.deliver(req, fakeProviderContext("resend", { apiUrl: resend.origin }));
}

const sendEmailRule = {
  from: "Acme <hello@acme.test>",
  subject: "Welcome, {{first_name}}",
  body: "Hi {{name}}, you are on {{plan.tier}}.",
};

describe("resend send_email_template", () => {
  it("when delivered, then POST /emails names the template, its variables come from the mapped fields, and the delivery id is the idempotency key", async () => {
    const resend = await fake();
    const req = request(
      resend,
      "send_email_template",
      { id: "order-confirmation", from: "Acme <hello@acme.test>", subject: "Order for {{name}}" },
      {
        mapped: { ...mapped, PRODUCT: "Vintage Macintosh", PRICE: 499, gift: true, nested: { a: 1 }, EMAIL: "x@y.z", missing: null },
      },
    );

    const facts = await deliver(resend, req);

    expect(facts.httpStatus).toBe(200);
    expect(facts.providerOutcome).toBeUndefined();
    expect(resend.requests).toHaveLength(1);
    const [sent] = resend.requests;
    expect(sent?.method).toBe("POST");
    expect(sent?.path).toBe("/emails");
    expect(sent?.headers.authorization).toBe(`Bearer ${resend.apiKey}`);
    expect(sent?.headers["idempotency-key"]).toBe(req.deliveryId);
    expect(sent?.json).toEqual({
      from: "Acme <hello@acme.test>",
      to: ["ada@example.com"],
      subject: "Order for Ada Lovelace",
      template: {
        id: "order-confirmation",
        variables: { first_name: "Ada", last_name: "Lovelace", PRODUCT: "Vintage Macintosh", PRICE: 499, gift: "true" },
      },
    });
    expect(facts.request?.headers.Authorization).toBe("[redacted]");
    expect(JSON.stringify(facts)).not.toContain(resend.apiKey);
  });

  it("when the rule sets neither from nor subject, then the template's own are used (none are sent)", async () => {
    const resend = await fake();
    const facts = await deliver(resend, request(resend, "send_email_template", { id: "34a080c9-b17d-4187-ad80-5af20266e535" }));
    expect(facts.httpStatus).toBe(200);
    expect(resend.sent[0]).toEqual({
      to: ["ada@example.com"],
      template: { id: "34a080c9-b17d-4187-ad80-5af20266e535", variables: { first_name: "Ada", last_name: "Lovelace" } },
    });
  });

  it("when the rule's subject renders to nothing, then none is sent and the template's own applies", async () => {
    const resend = await fake();
    const facts = await deliver(
      resend,
      request(resend, "send_email_template", { id: "34a080c9-b17d-4187-ad80-5af20266e535", subject: "{{missing}}" }),
    );
    expect(facts.httpStatus).toBe(200);
    expect(resend.sent[0]).not.toHaveProperty("subject");
  });

  it("when the same delivery is retried, then Resend sends the email once (the idempotency key replays the answer)", async () => {
    const resend = await fake();
    const req = request(resend, "send_email_template", { id: "order-confirmation", from: "hello@acme.test", subject: "Hi" });
    const first = await deliver(resend, req);
    const retry = await deliver(resend, { ...req, attempt: 2 });
    expect([first.httpStatus, retry.httpStatus]).toEqual([200, 200]);
    expect(resend.requests).toHaveLength(2);
    expect(resend.sent).toHaveLength(1);
  });
});

describe("resend send_email", () => {
  it("when delivered, then the rendered subject and body go as text to the mapped email", async () => {
    const resend = await fake();
    const facts = await deliver(resend, request(resend, "send_email", sendEmailRule));
    expect(facts.httpStatus).toBe(200);
    expect(resend.requests[0]?.json).toEqual({
      from: "Acme <hello@acme.test>",
      to: ["ada@example.com"],
      subject: "Welcome, Ada",
      text: "Hi Ada Lovelace, you are on pro.",
    });
  });

  it("when the sender's name has a comma, then it is quoted", async () => {
    const resend = await fake();
    await deliver(resend, request(resend, "send_email", { ...sendEmailRule, from: '"Acme, Inc." <hello@acme.test>' }));
    expect(resend.sent[0]?.from).toBe('"Acme, Inc." <hello@acme.test>');
  });
});

describe("resend segments", () => {
  it("when the contact exists, then it is updated by email and added to the segment", async () => {
    const resend = await fake({ contacts: [{ email: "ada@example.com", first_name: "A" }] });
    const facts = await deliver(
      resend,
      request(
        resend,
        "add_to_segment",
        { id: segmentId },
        { mapped: { ...mapped, unsubscribed: false, properties: { company_name: "Analytical", size: 3, bad: {} } } },
      ),
    );

    expect(facts.httpStatus).toBe(200);
    expect(resend.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "PATCH /contacts/ada%40example.com",
      `POST /contacts/ada%40example.com/segments/${segmentId}`,
    ]);
    expect(resend.requests[0]?.json).toEqual({
      first_name: "Ada",
      last_name: "Lovelace",
      unsubscribed: false,
      properties: { company_name: "Analytical", size: 3 },
    });
    expect(resend.requests.every((r) => r.headers.authorization === `Bearer ${resend.apiKey}`)).toBe(true);
    const contact = resend.contacts.get("ada@example.com");
    expect(contact?.first_name).toBe("Ada");
    expect([...(contact?.segments ?? [])]).toEqual([segmentId]);
  });

  it("when the contact is new, then it is created with the mapped fields, then added", async () => {
    const resend = await fake();
    const facts = await deliver(resend, request(resend, "add_to_segment", { id: segmentId }));
    expect(facts.httpStatus).toBe(200);
    expect(facts.providerOutcome).toBeUndefined();
    expect(resend.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "PATCH /contacts/ada%40example.com",
      "POST /contacts",
      `POST /contacts/ada%40example.com/segments/${segmentId}`,
    ]);
    expect(resend.requests[1]?.json).toEqual({ email: "ada@example.com", first_name: "Ada", last_name: "Lovelace" });
    expect([...(resend.contacts.get("ada@example.com")?.segments ?? [])]).toEqual([segmentId]);
  });

  it("when nothing but the email is mapped, then the contact is looked up rather than updated", async () => {
    const resend = await fake({ contacts: [{ email: "ada@example.com" }] });
    const facts = await deliver(resend, request(resend, "add_to_segment", { id: segmentId }, { mapped: { email: "ada@example.com" } }));
    expect(facts.httpStatus).toBe(200);
    expect(resend.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /contacts/ada%40example.com",
      `POST /contacts/ada%40example.com/segments/${segmentId}`,
    ]);
  });

  it("when the segment does not exist, then Resend's 404 is the outcome (a final client error)", async () => {
    const resend = await fake({ contacts: [{ email: "ada@example.com" }] });
    const facts = await deliver(resend, request(resend, "add_to_segment", { id: "no-such-segment" }));
    expect(facts.httpStatus).toBe(404);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toBe("Resend answered 404 not_found");
  });

  it("when a member is removed, then the contact is updated and its membership deleted", async () => {
    const resend = await fake({ contacts: [{ email: "ada@example.com", segments: [segmentId] }] });
    const facts = await deliver(resend, request(resend, "remove_from_segment", { id: segmentId }));
    expect(facts.httpStatus).toBe(200);
    expect(resend.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "PATCH /contacts/ada%40example.com",
      `DELETE /contacts/ada%40example.com/segments/${segmentId}`,
    ]);
    expect(resend.contacts.get("ada@example.com")?.segments.size).toBe(0);
  });

  it("when the contact to remove is unknown to Resend, then nothing is created and the attempt is delivered", async () => {
    const resend = await fake();
    const facts = await deliver(resend, request(resend, "remove_from_segment", { id: segmentId }));
    expect(facts.httpStatus).toBe(404);
    expect(facts.providerOutcome).toBe("delivered");
    expect(resend.requests).toHaveLength(1);
    expect(resend.contacts.size).toBe(0);
  });

  it("when the contact is not in the segment, then the removal is delivered", async () => {
    const resend = await fake({ contacts: [{ email: "ada@example.com" }] });
    const facts = await deliver(resend, request(resend, "remove_from_segment", { id: segmentId }));
    expect(facts.httpStatus).toBe(404);
    expect(facts.providerOutcome).toBe("delivered");
  });

  it("when the upsert is rate limited, then the attempt stops there with the wait Resend asked for", async () => {
    const resend = await fake();
    resend.failNext({ kind: "rate_limited", retryAfterSeconds: 2 });
    const facts = await deliver(resend, request(resend, "add_to_segment", { id: segmentId }));
    expect(facts.httpStatus).toBe(429);
    expect(facts.retryAfterMs).toBe(2_000);
    expect(resend.requests).toHaveLength(1);
  });

  it("when the attempt's time is spent, then no further request is made and the attempt is a timeout", async () => {
    const resend = await fake();
    const facts = await deliver(resend, request(resend, "add_to_segment", { id: segmentId }, { timeoutMs: 0 }));
    expect(facts.failure).toBe("timeout");
    expect(resend.requests).toHaveLength(0);
  });

  it("when the contact creation is refused, then that answer is the outcome and no membership is asked", async () => {
    const resend = await fake();
    resend.failNext({ kind: "validation" }, { method: "POST", path: "/contacts" });
    const facts = await deliver(resend, request(resend, "add_to_segment", { id: segmentId }));
    expect(facts.httpStatus).toBe(422);
    expect(facts.message).toBe("Resend answered 422 validation_error");
    expect(resend.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["PATCH /contacts/ada%40example.com", "POST /contacts"]);
  });
});

describe("resend answers", () => {
  it.each([
    [{ kind: "validation" }, 422, undefined, "Resend answered 422 validation_error"],
    [{ kind: "missing_api_key" }, 401, undefined, "Resend answered 401 missing_api_key"],
    [{ kind: "invalid_api_key" }, 403, undefined, "Resend answered 403 invalid_api_key"],
    [{ kind: "api_key_invalid_400" }, 400, "auth_failed", "Resend answered 400 validation_error"],
    [{ kind: "unverified_domain" }, 403, "rejected_client_error", "Resend answered 403 validation_error"],
    [{ kind: "concurrent_idempotent_requests" }, 409, "rejected_server_error", "Resend answered 409 concurrent_idempotent_requests"],
    [{ kind: "server_error" }, 500, undefined, "Resend answered 500 application_error"],
    [{ kind: "server_error", status: 503 }, 503, undefined, "Resend answered 503 application_error"],
  ] as const)("when Resend answers %j, then the facts carry %i with providerOutcome %s", async (failure, status, outcome, message) => {
    const resend = await fake();
    resend.failNext(failure);
    const facts = await deliver(resend, request(resend, "send_email", sendEmailRule));
    expect(facts.httpStatus).toBe(status);
    expect(facts.providerOutcome).toBe(outcome);
    expect(facts.message).toBe(message);
    expect(facts.message).not.toContain("ada@example.com");
  });

  it("when a wrong key is sent, then the fake answers Resend's 403 invalid_api_key", async () => {
    const resend = await fake();
    const facts = await deliver(resend, request("re_wrong", "send_email", sendEmailRule));
    expect(facts.httpStatus).toBe(403);
    expect(facts.providerOutcome).toBeUndefined();
    expect(resend.sent).toHaveLength(0);
  });

  it("when Resend answers 429 with retry-after, then retryAfterMs is that delay", async () => {
    const resend = await fake();
    resend.failNext({ kind: "rate_limited", retryAfterSeconds: 3, resetSeconds: 9 });
    const facts = await deliver(resend, request(resend, "send_email", sendEmailRule));
    expect(facts.httpStatus).toBe(429);
    expect(facts.retryAfterMs).toBe(3_000);
  });

  it("when Resend answers 429 with only ratelimit-reset, then retryAfterMs is the time to the reset", async () => {
    const resend = await fake();
    resend.failNext({ kind: "rate_limited", resetSeconds: 9 });
    const facts = await deliver(resend, request(resend, "send_email", sendEmailRule));
    expect(facts.retryAfterMs).toBe(9_000);
  });
});

describe("resend mapping failures", () => {
  it.each([
    ["no email anywhere", "send_email", sendEmailRule, { mapped: {}, payload: {} }, "no recipient"],
    ["a mapped email that is not an address", "send_email", sendEmailRule, { mapped: { email: "not-an-address" } }, "no recipient"],
    [
      "a from that is not an address",
      "send_email",
      { ...sendEmailRule, from: "Acme <not-an-address>" },
      {},
      "metadata.from is not an email address",
    ],
    ["a body that cannot render", "send_email", { ...sendEmailRule, body: "{{#if}}" }, {}, "metadata.body"],
    ["a template without its id", "send_email_template", {}, {}, "metadata.id"],
    ["a segment action without its id", "add_to_segment", {}, {}, "metadata.id"],
    ["a segment action without an email", "remove_from_segment", { id: segmentId }, { mapped: {}, payload: {} }, "no contact"],
    ["an unknown action", "add_to_list", { id: "x" }, {}, 'no action "add_to_list"'],
  ])("when the attempt has %s, then it is a mapping failure and nothing is sent", async (_case, action, rule, patch, message) => {
    const resend = await fake();
    const base = request(resend, action, rule);
    const req: DeliveryRequest = {
      ...base,
      ...("mapped" in patch ? { mapped: patch.mapped } : {}),
      ...("payload" in patch ? { event: { ...base.event, payload: patch.payload as Record<string, unknown> } } : {}),
    };
    const facts = await deliver(resend, req);
    expect(facts.failure).toBe("mapping");
    expect(facts.message).toContain(message);
    expect(facts.message).not.toContain("not-an-address");
    expect(resend.requests).toHaveLength(0);
  });
});

describe("resend parseConfig", () => {
  it("when a Resend key is sent, then it is the only secret and the metadata is empty", () => {
    expect(resendDestination.parseConfig({ metadata: {}, secrets: { api_key: "re_123abc" } }, loopbackPolicy)).toEqual({
      ok: true,
      metadata: {},
      secrets: { api_key: "re_123abc" },
    });
  });

  it("when an update sends no key, then the stored one is kept; when it sends one, it replaces it", () => {
    const previous = { metadata: {}, secrets: { api_key: "re_old" } };
    expect(resendDestination.parseConfig({ metadata: {}, previous }, loopbackPolicy)).toEqual({
      ok: true,
      metadata: {},
      secrets: { api_key: "re_old" },
    });
    expect(resendDestination.parseConfig({ metadata: {}, secrets: { api_key: "re_new" }, previous }, loopbackPolicy)).toEqual({
      ok: true,
      metadata: {},
      secrets: { api_key: "re_new" },
    });
  });

  it.each([
    [{ metadata: {} }, "secrets.api_key", "is required"],
    [{ metadata: {}, secrets: { api_key: "SG.sendgrid" } }, "secrets.api_key", "starts with re_"],
    [{ metadata: {}, secrets: { api_key: "" } }, "secrets.api_key", "must be 1 to 512 characters"],
    [{ metadata: { audience_id: "a" }, secrets: { api_key: "re_k" } }, "metadata.audience_id", "not a known property"],
    [{ metadata: "x", secrets: { api_key: "re_k" } }, "metadata", "must be an object"],
    [{ metadata: {}, secrets: "re_k" }, "secrets", "must be an object"],
  ])("when the config is %j, then %s is refused", (input, param, msg) => {
    const result = resendDestination.parseConfig(input, loopbackPolicy);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContainEqual({ param, msg: expect.stringContaining(msg) });
  });
});

describe("resend catalog", () => {
  it("when action data is asked, then templates (drafts marked) and segments are listed for their actions", async () => {
    const resend = await fake();
    const data = await resendDestination.loadActionData?.(
      { id: "c", metadata: {}, secrets: { api_key: resend.apiKey } },
      fakeProviderContext("resend", { apiUrl: resend.origin }),
    );
    expect(data?.send_email_template).toEqual([
      { id: "34a080c9-b17d-4187-ad80-5af20266e535", label: "Welcome" },
      { id: "order-confirmation", label: "Order confirmation" },
      { id: "b2c3d4e5-0000-4000-8000-000000000003", label: "Next campaign (draft)" },
    ]);
    const segments = defaultResendSegments.map((s) => ({ id: s.id, label: s.name }));
    expect(data?.add_to_segment).toEqual(segments);
    expect(data?.remove_from_segment).toEqual(segments);
    expect(data?.send_email).toBeUndefined();
    expect(resend.requests.map((r) => r.path)).toEqual(["/templates?limit=100", "/segments?limit=100"]);
  });

  it("when there are more segments than a page, then every page is read with after", async () => {
    const segments = Array.from({ length: 130 }, (_, i) => ({ id: `seg-${i}`, name: `Segment ${i}` }));
    const resend = await fake({ segments });
    const data = await resendDestination.loadActionData?.(
      { id: "c", metadata: {}, secrets: { api_key: resend.apiKey } },
      fakeProviderContext("resend", { apiUrl: resend.origin }),
    );
    expect(data?.add_to_segment).toHaveLength(130);
    expect(resend.requests.map((r) => r.path)).toContain("/segments?limit=100&after=seg-99");
  });

  it("when fields are asked, then the contact fields and the custom properties are listed", async () => {
    const resend = await fake({
      contactProperties: [
        { id: "p1", key: "company_name", type: "string" },
        { id: "p2", key: "seats", type: "number" },
      ],
    });
    const fields = await resendDestination.loadFields?.(
      { id: "c", metadata: {}, secrets: { api_key: resend.apiKey } },
      fakeProviderContext("resend", { apiUrl: resend.origin }),
    );
    expect(fields?.map((f) => [f.key, f.type])).toEqual([
      ["email", "string"],
      ["first_name", "string"],
      ["last_name", "string"],
      ["unsubscribed", "boolean"],
      ["properties.company_name", "string"],
      ["properties.seats", "number"],
    ]);
    expect(resend.requests[0]?.path).toBe("/contact-properties?limit=100");
  });

  it("when Resend refuses the key, then the read fails naming Resend and the status", async () => {
    const resend = await fake();
    const read = resendDestination.loadActionData?.(
      { id: "c", metadata: {}, secrets: { api_key: "re_wrong" } },
      fakeProviderContext("resend", { apiUrl: resend.origin }),
    );
    await expect(read).rejects.toThrow(ProviderReadError);
    await expect(read).rejects.toThrow(/Resend answered 403/);
  });
});

describe("resend description", () => {
  it("when listed, then it is registered with Meshes' actions and inputs", () => {
    expect(destinations.get("resend")).toBe(resendDestination);
    expect(
      resendDestination.description.actions.map((a) => [a.key, (a.inputs ?? []).map((i) => `${i.field}${i.required ? "!" : ""}`)]),
    ).toEqual([
      ["add_to_segment", ["id!"]],
      ["remove_from_segment", ["id!"]],
      ["send_email_template", ["id!", "subject", "from"]],
      ["send_email", ["subject!", "from!", "body!"]],
    ]);
    expect(resendDestination.description.secret_fields).toEqual(["secrets.api_key"]);
  });

  it("when a rule is written, then required inputs and template syntax are checked", () => {
    expect(
      ruleMetadataProblems(resendDestination.description, { action: "send_email", from: "a@acme.test", subject: "{{#if}}" }).map(
        (p) => p.param,
      ),
    ).toEqual(["metadata.subject", "metadata.body"]);
    expect(ruleMetadataProblems(resendDestination.description, { action: "send_email_template", id: "t" })).toEqual([]);
  });

  it("when a connection is made, then its default mapping takes email (needed) and the names (optional)", () => {
    expect(resendDestination.defaultMapping?.fields.map((f) => [f.dest, f.source.value, f.on_error])).toEqual([
      ["email", "email", "fail_action"],
      ["first_name", "first_name", "skip_field"],
      ["last_name", "last_name", "skip_field"],
    ]);
  });
});
