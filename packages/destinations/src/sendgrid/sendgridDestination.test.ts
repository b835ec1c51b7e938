import { afterEach, describe, expect, it } from "vitest";
import { destinations } from "../destinations.js";
import { ProviderReadError } from "../providers/callProvider.js";
import { ruleMetadataProblems } from "../providers/ruleInputs.js";
import { defaultSendgridTemplates, type SendgridFake, startSendgridFake } from "../testSupport/fakes/sendgridFake.js";
import { deliveryRequestFor, fakeProviderContext, loopbackPolicy, sampleEvent } from "../testSupport/pluginKit.js";
import { sendgridDestination } from "./sendgridDestination.js";

const fakes: SendgridFake[] = [];
async function fake(options?: Parameters<typeof startSendgridFake>[0]): Promise<SendgridFake> {
  const started = await startSendgridFake(options);
  fakes.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

const templateId = defaultSendgridTemplates[0].id;
const mapped = { email: "ada@example.com", first_name: "Ada", last_name: "Lovelace", name: "Ada Lovelace" };

function templateRequest(apiKey: string, overrides: { ruleMetadata?: Record<string, unknown>; mapped?: Record<string, unknown> } = {}) {
  return deliveryRequestFor({
    action: "send_email_template",
    ruleMetadata: overrides.ruleMetadata ?? { id: templateId, from: "Acme <hello@acme.test>" },
    metadata: {},
    secrets: { api_key: apiKey },
    mapped: overrides.mapped ?? mapped,
  });
}

function emailRequest(apiKey: string, ruleMetadata?: Record<string, unknown>, overrides: { mapped?: Record<string, unknown> } = {}) {
  return deliveryRequestFor({
    action: "send_email",
    ruleMetadata: ruleMetadata ?? {
      from: "hello@acme.test",
      subject: "Welcome, {{first_name}}",
      body: "Hi {{name}}, your plan is {{plan.tier}}.",
    },
    metadata: {},
    secrets: { api_key: apiKey },
    mapped: overrides.mapped ?? mapped,
  });
}

describe("sendgrid send_email_template", () => {
  it("when delivered, then one Mail Send request carries the template, the sender and the payload with the mapped fields over it", async () => {
    const sendgrid = await fake();
    const context = fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin });
    const request = templateRequest(sendgrid.apiKey, {
      ruleMetadata: { id: templateId, from: "Acme <hello@acme.test>", subject: "Hello {{first_name}}" },
      mapped: { ...mapped, first_name: "Augusta" },
    });

    const facts = await sendgridDestination.deliver(request, context);

    expect(facts.httpStatus).toBe(202);
    expect(facts.providerOutcome).toBeUndefined();
    expect(sendgrid.requests).toHaveLength(1);
    const [sent] = sendgrid.requests;
    expect(sent?.method).toBe("POST");
    expect(sent?.path).toBe("/v3/mail/send");
    expect(sent?.headers.authorization).toBe(`Bearer ${sendgrid.apiKey}`);
    expect(sent?.headers["content-type"]).toBe("application/json");
    expect(sent?.json).toEqual({
      personalizations: [
        {
          to: [{ email: "ada@example.com", name: "Ada Lovelace" }],
          dynamic_template_data: { ...sampleEvent.payload, ...mapped, first_name: "Augusta", subject: "Hello Ada" },
        },
      ],
      from: { email: "hello@acme.test", name: "Acme" },
      template_id: templateId,
    });
    expect(facts.request?.headers.Authorization).toBe("[redacted]");
    expect(JSON.stringify(facts)).not.toContain(sendgrid.apiKey);
  });

  it("when the rule sets no subject, then the template data has none of its own", async () => {
    const sendgrid = await fake();
    const facts = await sendgridDestination.deliver(
      templateRequest(sendgrid.apiKey),
      fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }),
    );
    expect(facts.httpStatus).toBe(202);
    expect(sendgrid.sent[0]?.personalizations).toEqual([
      { to: [{ email: "ada@example.com", name: "Ada Lovelace" }], dynamic_template_data: { ...sampleEvent.payload, ...mapped } },
    ]);
    expect(sendgrid.sent[0]?.from).toEqual({ email: "hello@acme.test", name: "Acme" });
  });
});

describe("sendgrid send_email", () => {
  it("when delivered, then the rendered subject and body go as text/plain from the plain sender", async () => {
    const sendgrid = await fake();
    const facts = await sendgridDestination.deliver(
      emailRequest(sendgrid.apiKey),
      fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }),
    );

    expect(facts.httpStatus).toBe(202);
    expect(sendgrid.requests[0]?.path).toBe("/v3/mail/send");
    expect(sendgrid.requests[0]?.json).toEqual({
      personalizations: [{ to: [{ email: "ada@example.com", name: "Ada Lovelace" }] }],
      from: { email: "hello@acme.test" },
      subject: "Welcome, Ada",
      content: [{ type: "text/plain", value: "Hi Ada Lovelace, your plan is pro." }],
    });
  });

  it("when the mapping gave no email, then the payload's email is the recipient and no name is sent", async () => {
    const sendgrid = await fake();
    const facts = await sendgridDestination.deliver(
      emailRequest(sendgrid.apiKey, undefined, { mapped: {} }),
      fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }),
    );
    expect(facts.httpStatus).toBe(202);
    expect(sendgrid.sent[0]?.personalizations).toEqual([{ to: [{ email: "ada@example.com" }] }]);
  });
});

describe("sendgrid answers", () => {
  it.each([
    ["validation", 400, "rejected_client_error", "SendGrid answered 400: refused from.email"],
    ["unauthorized", 401, "auth_failed", "SendGrid answered 401"],
    ["forbidden", 403, "auth_failed", "SendGrid answered 403"],
    ["server_error", 500, "rejected_server_error", "SendGrid answered 500"],
  ] as const)(
    "when SendGrid answers %s, then the facts carry %i (the policy makes it %s) and name no values",
    async (kind, status, _outcome, message) => {
      const sendgrid = await fake();
      sendgrid.failNext({ kind });
      const facts = await sendgridDestination.deliver(
        emailRequest(sendgrid.apiKey),
        fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }),
      );
      expect(facts.httpStatus).toBe(status);
      expect(facts.providerOutcome).toBeUndefined();
      expect(facts.message).toBe(message);
      expect(facts.message).not.toContain("ada@example.com");
    },
  );

  it("when a wrong key is sent, then the fake answers SendGrid's 401", async () => {
    const sendgrid = await fake();
    const facts = await sendgridDestination.deliver(
      emailRequest("SG.other-key"),
      fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }),
    );
    expect(facts.httpStatus).toBe(401);
    expect(sendgrid.sent).toHaveLength(0);
  });

  it("when SendGrid answers 429 with Retry-After, then retryAfterMs is that delay", async () => {
    const sendgrid = await fake();
    sendgrid.failNext({ kind: "rate_limited", retryAfterSeconds: 7, resetAtEpochSeconds: Math.floor(Date.now() / 1000) + 60 });
    const facts = await sendgridDestination.deliver(
      emailRequest(sendgrid.apiKey),
      fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }),
    );
    expect(facts.httpStatus).toBe(429);
    expect(facts.retryAfterMs).toBe(7_000);
  });

  it("when SendGrid answers 429 with only X-RateLimit-Reset, then retryAfterMs is the wait until that second", async () => {
    const sendgrid = await fake();
    const now = new Date("2026-12-01T10:00:00.000Z");
    sendgrid.failNext({ kind: "rate_limited", resetAtEpochSeconds: now.getTime() / 1000 + 42 });
    const request = { ...emailRequest(sendgrid.apiKey), now: () => now };
    const facts = await sendgridDestination.deliver(request, fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }));
    expect(facts.httpStatus).toBe(429);
    expect(facts.retryAfterMs).toBe(42_000);
  });

  it("when the reset has passed, then retryAfterMs is 0, never negative", async () => {
    const sendgrid = await fake();
    sendgrid.failNext({ kind: "rate_limited", resetAtEpochSeconds: 1_000 });
    const facts = await sendgridDestination.deliver(
      emailRequest(sendgrid.apiKey),
      fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }),
    );
    expect(facts.retryAfterMs).toBe(0);
  });
});

describe("sendgrid mapping failures", () => {
  it.each([
    ["no email anywhere", emailRequest("SG.k", undefined, { mapped: {} }), { payload: {} }, "no recipient"],
    ["a mapped email that is not an address", emailRequest("SG.k", undefined, { mapped: { email: "not-an-address" } }), {}, "no recipient"],
    [
      "a from that is not an address",
      emailRequest("SG.k", { from: "Acme", subject: "s", body: "b" }),
      {},
      "metadata.from is not an email address",
    ],
    [
      "a subject that does not compile",
      emailRequest("SG.k", { from: "a@acme.test", subject: "{{#if}}", body: "b" }),
      {},
      "metadata.subject",
    ],
    ["a template without its id", templateRequest("SG.k", { ruleMetadata: { from: "a@acme.test" } }), {}, "metadata.id"],
    ["a template without its from", templateRequest("SG.k", { ruleMetadata: { id: templateId } }), {}, "metadata.from is required"],
    ["an unknown action", { ...emailRequest("SG.k"), action: "add_to_list" }, {}, 'no action "add_to_list"'],
  ])("when the attempt has %s, then it is a mapping failure and nothing is sent", async (_case, base, patch, message) => {
    const sendgrid = await fake();
    const request = "payload" in patch ? { ...base, event: { ...base.event, payload: patch.payload as Record<string, unknown> } } : base;
    const facts = await sendgridDestination.deliver(request, fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }));
    expect(facts.failure).toBe("mapping");
    expect(facts.message).toContain(message);
    expect(facts.message).not.toContain("not-an-address");
    expect(sendgrid.requests).toHaveLength(0);
  });

  it("when the stored secrets have no key, then the attempt is an internal failure", async () => {
    const facts = await sendgridDestination.deliver(
      { ...emailRequest("SG.k"), connection: { id: "c", metadata: {}, secrets: {} } },
      fakeProviderContext("sendgrid", {}),
    );
    expect(facts.failure).toBe("internal");
  });
});

describe("sendgrid parseConfig", () => {
  it("when a SendGrid key is sent, then it is the only secret and the metadata is empty", () => {
    expect(sendgridDestination.parseConfig({ metadata: {}, secrets: { api_key: "SG.abc.def" } }, loopbackPolicy)).toEqual({
      ok: true,
      metadata: {},
      secrets: { api_key: "SG.abc.def" },
    });
  });

  it("when an update sends no key, then the stored one is kept", () => {
    const result = sendgridDestination.parseConfig(
      { metadata: {}, previous: { metadata: {}, secrets: { api_key: "SG.kept" } } },
      loopbackPolicy,
    );
    expect(result).toEqual({ ok: true, metadata: {}, secrets: { api_key: "SG.kept" } });
  });

  it.each([
    [{ metadata: {} }, "secrets.api_key", "is required"],
    [{ metadata: {}, secrets: { api_key: "re_resend-key" } }, "secrets.api_key", "starts with SG."],
    [{ metadata: {}, secrets: { api_key: "SG.has space" } }, "secrets.api_key", "without spaces"],
    [{ metadata: {}, secrets: { api_key: 42 } }, "secrets.api_key", "must be a string"],
    [{ metadata: { region: "eu" }, secrets: { api_key: "SG.k" } }, "metadata.region", "not a known property"],
    [{ metadata: [], secrets: { api_key: "SG.k" } }, "metadata", "must be an object"],
    [{ metadata: {}, secrets: { api_key: "SG.k", token: "x" } }, "secrets.token", "not a known property"],
  ])("when the config is %j, then %s is refused", (input, param, msg) => {
    const result = sendgridDestination.parseConfig(input, loopbackPolicy);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toContainEqual({ param, msg: expect.stringContaining(msg) });
  });
});

describe("sendgrid loadActionData", () => {
  it("when asked, then the dynamic templates are listed page by page", async () => {
    const templates = Array.from({ length: 205 }, (_, i) => ({ id: `d-${String(i).padStart(32, "0")}`, name: `Template ${i}` }));
    const sendgrid = await fake({ templates });
    const loadActionData = sendgridDestination.loadActionData;
    if (loadActionData === undefined) throw new Error("sendgrid lists templates");

    const data = await loadActionData(
      { id: "c", metadata: {}, secrets: { api_key: sendgrid.apiKey } },
      fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }),
    );

    expect(data.send_email_template).toHaveLength(205);
    expect(data.send_email_template?.[0]).toEqual({ id: templates[0]?.id, label: "Template 0" });
    expect(sendgrid.requests.map((r) => r.path)).toEqual([
      "/v3/templates?generations=dynamic&page_size=200",
      "/v3/templates?generations=dynamic&page_size=200&page_token=200",
    ]);
    expect(sendgrid.requests[0]?.headers.authorization).toBe(`Bearer ${sendgrid.apiKey}`);
  });

  it("when SendGrid refuses the key, then the read fails naming SendGrid and the status", async () => {
    const sendgrid = await fake();
    const loadActionData = sendgridDestination.loadActionData;
    if (loadActionData === undefined) throw new Error("sendgrid lists templates");
    const read = loadActionData(
      { id: "c", metadata: {}, secrets: { api_key: "SG.wrong" } },
      fakeProviderContext("sendgrid", { apiUrl: sendgrid.origin }),
    );
    await expect(read).rejects.toThrow(ProviderReadError);
    await expect(read).rejects.toThrow(/SendGrid answered 401/);
  });
});

describe("sendgrid description", () => {
  it("when listed, then it is registered with Meshes' actions and inputs", () => {
    expect(destinations.get("sendgrid")).toBe(sendgridDestination);
    const { description } = sendgridDestination;
    expect(description.actions.map((a) => [a.key, (a.inputs ?? []).map((i) => `${i.field}${i.required ? "!" : ""}`)])).toEqual([
      ["send_email_template", ["id!", "from!", "subject"]],
      ["send_email", ["subject!", "from!", "body!"]],
    ]);
    expect(description.secret_fields).toEqual(["secrets.api_key"]);
    expect(description.authentication.type).toBe("api_key");
  });

  it("when a rule is written, then a missing from, a too long from and a broken body template are refused", () => {
    const problems = ruleMetadataProblems(sendgridDestination.description, { action: "send_email", subject: "Hi", body: "{{#each}}" });
    expect(problems.map((p) => p.param)).toEqual(["metadata.from", "metadata.body"]);
    const long = ruleMetadataProblems(sendgridDestination.description, {
      action: "send_email_template",
      id: templateId,
      from: `${"a".repeat(600)}@x.io`,
    });
    expect(long.map((p) => p.param)).toEqual(["metadata.from"]);
  });

  it("when a connection is made, then its default mapping takes email (needed) and the name fields (optional) from the payload", () => {
    expect(sendgridDestination.defaultMapping?.fields.map((f) => [f.dest, f.source.value, f.on_error])).toEqual([
      ["email", "email", "fail_action"],
      ["first_name", "first_name", "skip_field"],
      ["last_name", "last_name", "skip_field"],
      ["name", "name", "skip_field"],
    ]);
  });
});
