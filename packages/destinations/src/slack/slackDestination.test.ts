import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryContext } from "../deliveryContext.js";
import { destinations } from "../destinations.js";
import { ProviderReadError } from "../providers/callProvider.js";
import { ruleMetadataProblems } from "../providers/ruleInputs.js";
import { type SlackFake, type SlackFakeChannel, startSlackFake } from "../testSupport/fakes/slackFake.js";
import { deliveryRequestFor, fakeProviderContext, loopbackPolicy } from "../testSupport/pluginKit.js";
import { slackErrorOutcome } from "./slackAnswer.js";
import { readSlackGrant, slackDestination } from "./slackDestination.js";

let fake: SlackFake;
let context: DeliveryContext;
beforeEach(async () => {
  fake = await startSlackFake();
  context = fakeProviderContext("slack", { apiUrl: fake.origin });
});
afterEach(async () => {
  await fake.close();
});

const connection = () => ({ metadata: { team_id: "T0FAKE0001", team_name: "Acme" }, secrets: { access_token: fake.token } });

function sendMessage(ruleMetadata: Record<string, unknown>, options: { secrets?: unknown; payload?: Record<string, unknown> } = {}) {
  const request = deliveryRequestFor({
    action: "send_message",
    ruleMetadata,
    ...connection(),
    ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
    ...(options.payload === undefined ? {} : { payload: options.payload }),
  });
  return slackDestination.deliver(request, context);
}

const rule = { id: "C0GENERAL1", template: "New signup: {{email}} ({{plan.tier}})" };

describe("slack send_message", () => {
  it("when the rule names a channel and a template, then it posts the rendered text to chat.postMessage with the bot token", async () => {
    const facts = await sendMessage(rule);

    expect(facts.httpStatus).toBe(200);
    expect(facts.providerOutcome).toBeUndefined();
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0];
    expect(sent?.method).toBe("POST");
    expect(sent?.path).toBe("/chat.postMessage");
    expect(sent?.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(sent?.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(sent?.body.toString("utf8") ?? "")).toEqual({ channel: "C0GENERAL1", text: "New signup: ada@example.com (pro)" });
    expect(fake.messages).toEqual([{ channel: "C0GENERAL1", text: "New signup: ada@example.com (pro)" }]);
  });

  it("when the attempt is recorded, then the token is redacted and the URL is Slack's method under the configured base", async () => {
    const facts = await sendMessage(rule);

    expect(facts.request?.url).toBe(`${fake.origin}/chat.postMessage`);
    expect(facts.request?.headers.Authorization).toBe("[redacted]");
    expect(JSON.stringify(facts)).not.toContain(fake.token);
  });

  it.each([
    ["invalid_auth", "auth_failed"],
    ["not_authed", "auth_failed"],
    ["token_revoked", "auth_failed"],
    ["token_expired", "auth_failed"],
    ["account_inactive", "auth_failed"],
    ["missing_scope", "auth_failed"],
    ["ratelimited", "rate_limited"],
    ["channel_not_found", "rejected_client_error"],
    ["not_in_channel", "rejected_client_error"],
    ["is_archived", "rejected_client_error"],
    ["msg_too_long", "rejected_client_error"],
    ["no_text", "rejected_client_error"],
    ["invalid_arguments", "rejected_client_error"],
    ["internal_error", "rejected_server_error"],
    ["fatal_error", "rejected_server_error"],
    ["service_unavailable", "rejected_server_error"],
  ])('when Slack answers 200 {"ok": false, "error": "%s"}, then the outcome is %s', async (error, outcome) => {
    fake.answerNext({ error });

    const facts = await sendMessage(rule);

    expect(facts.httpStatus).toBe(200);
    expect(facts.providerOutcome).toBe(outcome);
    expect(facts.message).toContain(`"${error}"`);
  });

  it("when the stored token is not the workspace's, then Slack's invalid_auth makes it auth_failed", async () => {
    const facts = await sendMessage(rule, { secrets: { access_token: "xoxb-revoked-token" } });

    expect(fake.requests[0]?.headers.authorization).toBe("Bearer xoxb-revoked-token");
    expect(facts.providerOutcome).toBe("auth_failed");
    expect(facts.message).toContain("connect Slack again");
  });

  it("when the fake is told which tokens are live (a fake OAuth server's), then a refreshed token is taken and a dead one refused", async () => {
    const live = new Set(["xoxe.xoxb-refreshed"]);
    const rotating = await startSlackFake({ acceptsToken: (t) => live.has(t) });
    const rotatingContext = fakeProviderContext("slack", { apiUrl: rotating.origin });
    const deliver = (access_token: string) =>
      slackDestination.deliver(
        deliveryRequestFor({ action: "send_message", ruleMetadata: rule, metadata: {}, secrets: { access_token } }),
        rotatingContext,
      );
    try {
      expect((await deliver("xoxe.xoxb-refreshed")).providerOutcome).toBeUndefined();
      expect((await deliver("xoxe.xoxb-expired")).providerOutcome).toBe("auth_failed");
      expect(rotating.messages).toHaveLength(1);
    } finally {
      await rotating.close();
    }
  });

  it("when the channel does not exist or is archived, then Slack's answer is a client error naming the reason", async () => {
    const missing = await sendMessage({ ...rule, id: "C0NOTTHERE" });
    const archived = await sendMessage({ ...rule, id: "C0OLDNEWS1" });

    expect([missing.providerOutcome, archived.providerOutcome]).toEqual(["rejected_client_error", "rejected_client_error"]);
    expect(missing.message).toContain("channel_not_found");
    expect(archived.message).toContain("is_archived");
    expect(fake.messages).toEqual([]);
  });

  it("when Slack answers 429 with Retry-After, then the status stands (rate_limited) and retryAfterMs carries the delay", async () => {
    fake.answerNext({ status: 429, retryAfterSeconds: 30 });

    const facts = await sendMessage(rule);

    expect(facts.httpStatus).toBe(429);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.retryAfterMs).toBeGreaterThan(29_000);
    expect(facts.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it.each([500, 502, 503] as const)("when Slack answers %i, then the status stands (a retried server error)", async (status) => {
    fake.answerNext({ status });

    const facts = await sendMessage(rule);

    expect(facts.httpStatus).toBe(status);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toContain(String(status));
  });

  it("when a 200 is not Slack's {ok: true}, then it is not counted as posted but retried as Slack's failure", async () => {
    const { readSlackAnswer } = await import("./slackAnswer.js");
    const facts = readSlackAnswer({ httpStatus: 200, durationMs: 1 }, undefined);

    expect(facts.providerOutcome).toBe("rejected_server_error");
  });

  it.each([
    ["the channel is missing", { template: "hi" }, "metadata.id"],
    ["the template is missing", { id: "C0GENERAL1" }, "metadata.template"],
    ["the template does not compile", { id: "C0GENERAL1", template: "Hi {{ name" }, "metadata.template is not a valid template"],
    ["the template renders empty", { id: "C0GENERAL1", template: "{{ nowhere }}" }, "metadata.template rendered to an empty text"],
  ])("when %s, then it is a mapping failure naming the field and nothing is sent", async (_case, ruleMetadata, message) => {
    const facts = await sendMessage(ruleMetadata);

    expect(facts.failure).toBe("mapping");
    expect(facts.message).toContain(message);
    expect(fake.requests).toHaveLength(0);
  });

  it("when the rendered text passes Slack's 40,000 characters, then it is a mapping failure and never cut short", async () => {
    const facts = await sendMessage(
      { id: "C0GENERAL1", template: "{{a}}{{b}}" },
      { payload: { a: "x".repeat(20_000), b: "y".repeat(20_001) } },
    );

    expect(facts.failure).toBe("mapping");
    expect(facts.message).toContain("metadata.template");
    expect(facts.message).toContain("40000 characters");
    expect(fake.requests).toHaveLength(0);
  });

  it("when the rule names another action, then it is a mapping failure", async () => {
    const request = deliveryRequestFor({ action: "send_email", ruleMetadata: rule, ...connection() });

    const facts = await slackDestination.deliver(request, context);

    expect(facts).toMatchObject({ failure: "mapping", message: 'Slack has no action "send_email" (it has: send_message)' });
  });

  it("when the connection has no access token, then it is an internal failure and nothing is sent", async () => {
    const facts = await sendMessage(rule, { secrets: {} });

    expect(facts.failure).toBe("internal");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("slack channels (loadActionData)", () => {
  const load = (secrets: unknown = { access_token: fake.token }) =>
    slackDestination.loadActionData?.({ id: "conn", metadata: {}, secrets }, context) ?? Promise.reject(new Error("no loadActionData"));

  it("when asked, then it lists public and private channels that are not archived, by name, from conversations.list", async () => {
    const data = await load();

    expect(data).toEqual({
      send_message: [
        { id: "C0ALERTS01", label: "#alerts" },
        { id: "G0PRIVATE1", label: "#founders (private)" },
        { id: "C0GENERAL1", label: "#general" },
      ],
    });
    const url = new URL(fake.requests[0]?.path ?? "", fake.origin);
    expect(fake.requests[0]?.method).toBe("GET");
    expect(url.pathname).toBe("/conversations.list");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      types: "public_channel,private_channel",
      exclude_archived: "true",
      limit: "200",
    });
    expect(fake.requests[0]?.headers.authorization).toBe(`Bearer ${fake.token}`);
  });

  it("when the workspace has more channels than a page, then it follows next_cursor to the end", async () => {
    const many: SlackFakeChannel[] = Array.from({ length: 450 }, (_, i) => ({ id: `C${String(i).padStart(6, "0")}`, name: `team-${i}` }));
    fake.channels.splice(0, fake.channels.length, ...many);

    const data = await load();

    expect(data.send_message).toHaveLength(450);
    expect(fake.requests).toHaveLength(3);
    expect(new URL(fake.requests[0]?.path ?? "", fake.origin).searchParams.has("cursor")).toBe(false);
    expect(new URL(fake.requests[2]?.path ?? "", fake.origin).searchParams.get("cursor")).not.toBe("");
  });

  it("when Slack answers ok: false, then the read fails with a ProviderReadError naming the error", async () => {
    await expect(load({ access_token: "xoxb-wrong" })).rejects.toThrow(ProviderReadError);
    await expect(load({ access_token: "xoxb-wrong" })).rejects.toThrow('Slack answered "invalid_auth" to conversations.list');
  });

  it("when Slack answers 429, then the read fails with its status", async () => {
    fake.answerNext({ status: 429, retryAfterSeconds: 5 });

    await expect(load()).rejects.toThrow("Slack answered 429");
  });
});

describe("slack connection config", () => {
  const parse = (input: Parameters<typeof slackDestination.parseConfig>[0]) => slackDestination.parseConfig(input, loopbackPolicy);

  it("when the OAuth callback gives the grant's tokens and team, then they are kept, expires_at normalized", () => {
    const result = parse({
      metadata: { team_id: "T0FAKE0001", team_name: "Acme", bot_user_id: "U0BOT00001" },
      secrets: { access_token: "xoxe.xoxb-1-abc", refresh_token: "xoxe-1-def", expires_at: "2026-12-08T15:00:00+01:00", token_type: "bot" },
    });

    expect(result).toEqual({
      ok: true,
      metadata: { team_id: "T0FAKE0001", team_name: "Acme", bot_user_id: "U0BOT00001" },
      secrets: { access_token: "xoxe.xoxb-1-abc", refresh_token: "xoxe-1-def", expires_at: "2026-12-08T14:00:00.000Z", token_type: "bot" },
    });
  });

  it("when a caller sends only an access token, then the connection is made with empty metadata", () => {
    expect(parse({ metadata: {}, secrets: { access_token: "xoxb-direct" } })).toEqual({
      ok: true,
      metadata: {},
      secrets: { access_token: "xoxb-direct" },
    });
  });

  it.each([
    ["no access token", { metadata: {}, secrets: {} }, "secrets.access_token"],
    ["no secrets at all", { metadata: {} }, "secrets.access_token"],
    ["a token with a space", { metadata: {}, secrets: { access_token: "xoxb bad" } }, "secrets.access_token"],
    ["an unknown secret", { metadata: {}, secrets: { access_token: "x", password: "p" } }, "secrets.password"],
    ["an unknown metadata key", { metadata: { channel: "C1" }, secrets: { access_token: "x" } }, "metadata.channel"],
    ["a team id that is not an id", { metadata: { team_id: "T 1" }, secrets: { access_token: "x" } }, "metadata.team_id"],
    ["an expiry that is not a date", { metadata: {}, secrets: { access_token: "x", expires_at: "tomorrow" } }, "secrets.expires_at"],
    ["metadata that is not an object", { metadata: "acme", secrets: { access_token: "x" } }, "metadata"],
  ])("when it has %s, then it is refused naming the field", (_case, input, param) => {
    const result = parse(input);

    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.map((e) => e.param)).toContain(param);
  });

  it("when an update sends a new access token only, then the refresh token is kept and the old expiry dropped", () => {
    const previous = { metadata: {}, secrets: { access_token: "old", refresh_token: "refresh-1", expires_at: "2026-12-08T14:00:00.000Z" } };

    const result = parse({ metadata: {}, secrets: { access_token: "new" }, previous });

    expect(result).toEqual({ ok: true, metadata: {}, secrets: { access_token: "new", refresh_token: "refresh-1" } });
  });

  it("when an update sends no secrets, then the stored ones are kept", () => {
    const previous = { metadata: {}, secrets: { access_token: "old", refresh_token: "refresh-1" } };

    expect(parse({ metadata: { team_name: "Acme 2" }, previous })).toEqual({
      ok: true,
      metadata: { team_name: "Acme 2" },
      secrets: { access_token: "old", refresh_token: "refresh-1" },
    });
  });
});

describe("slack description and OAuth", () => {
  it("when registered, then GET /integrations sees slack with send_message taking a channel and a template", () => {
    expect(destinations.get("slack")).toBe(slackDestination);
    const action = slackDestination.description.actions.find((a) => a.key === "send_message");
    expect(action?.inputs?.map((i) => [i.field, i.kind, i.required, i.template ?? false])).toEqual([
      ["id", "simple", true, false],
      ["template", "field", true, true],
    ]);
    expect(slackDestination.description.fields).toEqual([]);
    expect(slackDestination.description.authentication).toEqual({ type: "oauth", oauth: { version: 2 } });
  });

  it("when a rule lacks the channel or has a broken template, then its metadata is refused", () => {
    const problems = ruleMetadataProblems(slackDestination.description, { action: "send_message", template: "{{ oops" });

    expect(problems.map((p) => p.param)).toEqual(["metadata.id", "metadata.template"]);
  });

  it("when the app is authorized, then Slack's v2 endpoints are used with bot scopes joined by commas", () => {
    expect(slackDestination.oauth).toMatchObject({
      authorizeUrl: "https://slack.com/oauth/v2/authorize",
      tokenUrl: "https://slack.com/api/oauth.v2.access",
      scopeSeparator: ",",
      scopeParam: "scope",
    });
    expect(slackDestination.oauth?.scopes).toEqual(expect.arrayContaining(["chat:write", "channels:read", "groups:read"]));
  });

  it('when oauth.v2.access answers 200 {"ok": false}, then readGrant reports the error', () => {
    expect(readSlackGrant({ ok: false, error: "invalid_code" })).toEqual({ error: "Slack refused the grant: invalid_code" });
    expect(readSlackGrant({ access_token: "xoxb-1" }).error).toBeDefined();
  });

  it("when oauth.v2.access succeeds, then readGrant keeps the workspace as metadata", () => {
    const grant = readSlackGrant({
      ok: true,
      access_token: "xoxb-1",
      token_type: "bot",
      scope: "chat:write,channels:read",
      bot_user_id: "U0KRQLJ9H",
      app_id: "A0KRD7HC3",
      team: { id: "T9TK3CUKW", name: "Slack Softball Team" },
      enterprise: null,
      authed_user: { id: "U1234" },
    });

    expect(grant).toEqual({ metadata: { team_id: "T9TK3CUKW", team_name: "Slack Softball Team", bot_user_id: "U0KRQLJ9H" } });
  });

  it("when an unknown error code comes, then it is the request's fault (final), not a retry", () => {
    expect(slackErrorOutcome("some_new_error")).toBe("rejected_client_error");
  });
});
