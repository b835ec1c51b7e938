import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryContext } from "../deliveryContext.js";
import { destinations } from "../destinations.js";
import { ProviderReadError } from "../providers/callProvider.js";
import { ruleMetadataProblems } from "../providers/ruleInputs.js";
import { type DiscordFake, startDiscordFake } from "../testSupport/fakes/discordFake.js";
import { deliveryRequestFor, fakeProviderContext, loopbackPolicy } from "../testSupport/pluginKit.js";
import { discordBotPermissions, discordDestination, readDiscordGrant } from "./discordDestination.js";

let fake: DiscordFake;
let context: DeliveryContext;
beforeEach(async () => {
  fake = await startDiscordFake();
  context = fakeProviderContext("discord", { apiUrl: fake.origin, botToken: fake.botToken });
});
afterEach(async () => {
  await fake.close();
});

const guildId = "290926798626357250";
const connection = { metadata: { guild_id: guildId, guild_name: "Acme" }, secrets: { access_token: "user-token-from-the-grant" } };
const rule = { id: "400000000000000001", title: "New signup: {{name}}", template: "{{email}} joined on the {{plan.tier}} plan." };

function sendMessage(
  ruleMetadata: Record<string, unknown>,
  options: { payload?: Record<string, unknown>; context?: DeliveryContext } = {},
) {
  const request = deliveryRequestFor({
    action: "send_message",
    ruleMetadata,
    ...connection,
    ...(options.payload === undefined ? {} : { payload: options.payload }),
  });
  return discordDestination.deliver(request, options.context ?? context);
}

describe("discord send_message", () => {
  it("when the rule names a channel, a title and a template, then it posts one embed with the bot token", async () => {
    const facts = await sendMessage(rule);

    expect(facts.httpStatus).toBe(200);
    expect(facts.providerOutcome).toBeUndefined();
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /channels/400000000000000001",
      "POST /channels/400000000000000001/messages",
    ]);
    expect(fake.requests[0]?.headers.authorization).toBe(`Bot ${fake.botToken}`);
    const sent = fake.requests[1];
    expect(sent?.method).toBe("POST");
    expect(sent?.path).toBe("/channels/400000000000000001/messages");
    expect(sent?.headers.authorization).toBe(`Bot ${fake.botToken}`);
    expect(sent?.headers["content-type"]).toBe("application/json");
    expect(sent?.headers["user-agent"]).toMatch(/^DiscordBot \(/);
    expect(JSON.parse(sent?.body.toString("utf8") ?? "")).toEqual({
      embeds: [{ title: "New signup: Ada Lovelace", description: "ada@example.com joined on the pro plan." }],
    });
    expect(fake.messages.map((m) => m.channelId)).toEqual(["400000000000000001"]);
  });

  it("when the attempt is recorded, then the bot token is redacted and the connection's user token is never sent", async () => {
    const facts = await sendMessage(rule);

    expect(facts.request?.url).toBe(`${fake.origin}/channels/400000000000000001/messages`);
    expect(facts.request?.headers.Authorization).toBe("[redacted]");
    expect(JSON.stringify(facts)).not.toContain(fake.botToken);
    expect(JSON.stringify(fake.requests.map((r) => r.headers))).not.toContain("user-token-from-the-grant");
  });

  it("when the channel is an announcement channel, then the message is posted there too", async () => {
    const facts = await sendMessage({ ...rule, id: "400000000000000002" });

    expect(facts.httpStatus).toBe(200);
    expect(fake.messages.map((m) => m.channelId)).toEqual(["400000000000000002"]);
  });

  it("when the operator set no bot token, then it is an internal failure naming the setting and nothing is sent", async () => {
    const facts = await sendMessage(rule, { context: fakeProviderContext("discord", { apiUrl: fake.origin }) });

    expect(facts.failure).toBe("internal");
    expect(facts.message).toContain("SWITCHYARD_DISCORD_BOT_TOKEN is not set");
    expect(fake.requests).toHaveLength(0);
  });

  it("when Discord refuses the bot token (401), then the status stands (auth_failed) and the message names the bot token", async () => {
    const facts = await sendMessage(rule, { context: fakeProviderContext("discord", { apiUrl: fake.origin, botToken: "revoked" }) });

    expect(facts.httpStatus).toBe(401);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toBe(
      "Discord answered 401 (0 401: Unauthorized): Discord refused the operator's bot token (SWITCHYARD_DISCORD_BOT_TOKEN)",
    );
  });

  it("when the bot may not post in the channel (403 Missing Permissions), then it is a final client error, not auth_failed", async () => {
    const facts = await sendMessage({ ...rule, id: "400000000000000005" });

    expect(fake.requests.map((r) => r.method)).toEqual(["GET", "POST"]);
    expect(facts.httpStatus).toBe(403);
    expect(facts.providerOutcome).toBe("rejected_client_error");
    expect(facts.message).toContain("50013 Missing Permissions");
    expect(facts.message).toContain("View Channel, Send Messages and Embed Links");
  });

  it("when the channel is unknown (404), then the status stands (a client error) and the message says what to check", async () => {
    const facts = await sendMessage({ ...rule, id: "499999999999999999" });

    expect(facts.httpStatus).toBe(404);
    expect(facts.providerOutcome).toBeUndefined();
    expect(facts.message).toContain("10003 Unknown Channel");
  });

  it("when the channel is not a text channel, then Discord's 400 stands (a client error)", async () => {
    const facts = await sendMessage({ ...rule, id: "400000000000000003" });

    expect(facts.httpStatus).toBe(400);
    expect(facts.message).toContain("50008");
  });

  it("when Discord answers 429 to the message, then retry_after from the body (seconds with decimals) becomes retryAfterMs", async () => {
    await sendMessage(rule);
    fake.answerNext({ status: 429, retryAfterSeconds: 64.57 });

    const facts = await sendMessage(rule);

    expect(facts.httpStatus).toBe(429);
    expect(facts.retryAfterMs).toBe(64_570);
    expect(fake.requests.at(-1)?.path).toBe("/channels/400000000000000001/messages");
    expect(fake.messages).toHaveLength(1);
  });

  it("when the channel's server is known from an earlier message, then Discord is not asked again", async () => {
    await sendMessage(rule);
    await sendMessage(rule);

    expect(fake.requests.map((r) => r.method)).toEqual(["GET", "POST", "POST"]);
    expect(fake.messages).toHaveLength(2);
  });

  it("when the rule names a channel of another server the bot is in, then nothing is posted (the bot is shared by every tenant)", async () => {
    fake.guilds.push({
      id: "777777777777777777",
      name: "Someone else",
      channels: [{ id: "700000000000000001", name: "general", type: 0, position: 0 }],
    });

    const facts = await sendMessage({ ...rule, id: "700000000000000001" });

    expect(facts).toMatchObject({ failure: "mapping", message: expect.stringContaining("another Discord server than the connection's") });
    expect(fake.requests.map((r) => r.method)).toEqual(["GET"]);
    expect(fake.messages).toEqual([]);
  });

  it("when Discord answers 429 to the channel lookup, then that rate limit is honoured and nothing is posted", async () => {
    fake.answerNext({ status: 429, retryAfterSeconds: 2.25 });

    const facts = await sendMessage(rule);

    expect(facts).toMatchObject({ httpStatus: 429, retryAfterMs: 2_250 });
    expect(fake.messages).toEqual([]);
  });

  it("when a global rate limit is hit, then the message says so", async () => {
    fake.answerNext({ status: 429, retryAfterSeconds: 1.5, global: true });

    const facts = await sendMessage(rule);

    expect(facts.retryAfterMs).toBe(1_500);
    expect(facts.message).toContain("global rate limit");
  });

  it.each([500, 502, 503] as const)("when Discord answers %i, then the status stands (a retried server error)", async (status) => {
    fake.answerNext({ status });

    const facts = await sendMessage(rule);

    expect(facts.httpStatus).toBe(status);
    expect(facts.providerOutcome).toBeUndefined();
  });

  it.each([
    ["the channel is missing", { title: "t", template: "b" }, "metadata.id (the Discord channel) is not set"],
    ["the channel is not a Discord id", { ...rule, id: "../guilds/1" }, "metadata.id is not a Discord channel id"],
    ["the title is missing", { id: rule.id, template: "b" }, "metadata.title is not set"],
    ["the template is missing", { id: rule.id, title: "t" }, "metadata.template is not set"],
    ["the title does not compile", { ...rule, title: "{{ name" }, "metadata.title is not a valid template"],
    ["the title renders empty", { ...rule, title: "{{ nowhere }}" }, "metadata.title rendered to an empty text"],
  ])("when %s, then it is a mapping failure naming the field and nothing is sent", async (_case, ruleMetadata, message) => {
    const facts = await sendMessage(ruleMetadata);

    expect(facts.failure).toBe("mapping");
    expect(facts.message).toContain(message);
    expect(fake.requests).toHaveLength(0);
  });

  it("when the rendered title passes 256 characters, then it is a mapping failure, never cut short", async () => {
    const facts = await sendMessage(rule, { payload: { name: "n".repeat(250), email: "ada@example.com" } });

    expect(facts).toMatchObject({
      failure: "mapping",
      message: "metadata.title rendered to 262 characters; a Discord embed's title takes at most 256",
    });
    expect(facts.message).not.toContain("nnnn");
    expect(fake.requests).toHaveLength(0);
  });

  it("when the rendered body passes 4096 characters, then it is a mapping failure, never cut short", async () => {
    const facts = await sendMessage({ ...rule, template: "{{bio}}" }, { payload: { name: "Ada", bio: "b".repeat(4097) } });

    expect(facts).toMatchObject({
      failure: "mapping",
      message: "metadata.template rendered to 4097 characters; a Discord embed's description takes at most 4096",
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("when the body is exactly 4096 characters and the title 256, then Discord takes it", async () => {
    const facts = await sendMessage(
      { ...rule, title: "{{t}}", template: "{{bio}}" },
      { payload: { t: "t".repeat(256), bio: "b".repeat(4096) } },
    );

    expect(facts.httpStatus).toBe(200);
  });

  it("when the rule names another action, then it is a mapping failure", async () => {
    const request = deliveryRequestFor({ action: "add_to_list", ruleMetadata: rule, ...connection });

    expect(await discordDestination.deliver(request, context)).toMatchObject({ failure: "mapping" });
  });
});

describe("discord channels (loadActionData)", () => {
  const load = (metadata: unknown = connection.metadata, ctx: DeliveryContext = context) =>
    discordDestination.loadActionData?.({ id: "conn", metadata, secrets: connection.secrets }, ctx) ?? Promise.reject(new Error("none"));

  it("when asked, then it lists the server's text and announcement channels in order, with the bot token", async () => {
    expect(await load()).toEqual({
      send_message: [
        { id: "400000000000000001", label: "#general" },
        { id: "400000000000000002", label: "#announcements (announcement)" },
        { id: "400000000000000005", label: "#staff-only" },
      ],
    });
    expect(fake.requests[0]).toMatchObject({ method: "GET", path: `/guilds/${guildId}/channels` });
    expect(fake.requests[0]?.headers.authorization).toBe(`Bot ${fake.botToken}`);
  });

  it("when the bot is not in the server, then the read fails with Discord's answer", async () => {
    await expect(load({ guild_id: "1" })).rejects.toThrow(ProviderReadError);
    await expect(load({ guild_id: "1" })).rejects.toThrow("Discord answered 404");
  });

  it("when the operator set no bot token, then the read fails naming the setting", async () => {
    await expect(load(connection.metadata, fakeProviderContext("discord", { apiUrl: fake.origin }))).rejects.toThrow(
      "SWITCHYARD_DISCORD_BOT_TOKEN is not set",
    );
    expect(fake.requests).toHaveLength(0);
  });
});

describe("discord connection config", () => {
  const parse = (input: Parameters<typeof discordDestination.parseConfig>[0]) => discordDestination.parseConfig(input, loopbackPolicy);

  it("when the OAuth callback gives the grant, then the guild is kept and the unused user token's refresh token and expiry are not", () => {
    const result = parse({
      metadata: { guild_id: guildId, guild_name: "Acme" },
      secrets: {
        access_token: "user-token",
        refresh_token: "refresh",
        expires_at: "2026-12-15T10:00:00Z",
        token_type: "Bearer",
        scope: "bot",
      },
      fromGrant: true,
    });

    expect(result).toEqual({
      ok: true,
      metadata: { guild_id: guildId, guild_name: "Acme" },
      secrets: { access_token: "user-token", token_type: "Bearer", scope: "bot" },
    });
  });

  it("when a caller names a guild (not the OAuth callback), then it is refused: the shared bot could post into another tenant's server", () => {
    const result = parse({ metadata: { guild_id: guildId }, secrets: { access_token: "x" } });

    expect(result.ok ? [] : result.errors.map((e) => [e.param, e.msg])).toEqual([
      ["metadata.guild_id", expect.stringContaining("through OAuth")],
    ]);
  });

  it("when an update keeps the granted guild, then it is accepted; when it names another, then it is refused", () => {
    const previous = { metadata: { guild_id: guildId, guild_name: "Acme" }, secrets: { access_token: "x" } };

    expect(parse({ metadata: { guild_id: guildId, guild_name: "Acme HQ" }, previous }).ok).toBe(true);
    const moved = parse({ metadata: { guild_id: "2909267986347357250" }, previous });
    expect(moved.ok ? [] : moved.errors.map((e) => e.param)).toEqual(["metadata.guild_id"]);
  });

  it.each([
    ["no guild", { metadata: {}, secrets: { access_token: "x" } }, "metadata.guild_id"],
    ["a guild id that is not a snowflake", { metadata: { guild_id: "acme" }, secrets: { access_token: "x" } }, "metadata.guild_id"],
    ["no access token", { metadata: { guild_id: guildId }, secrets: {} }, "secrets.access_token"],
    ["an unknown metadata key", { metadata: { guild_id: guildId, channel: "1" }, secrets: { access_token: "x" } }, "metadata.channel"],
  ])("when it has %s, then it is refused naming the field", (_case, input, param) => {
    const result = parse(input);

    expect(result.ok ? [] : result.errors.map((e) => e.param)).toEqual([param]);
  });
});

describe("discord description and OAuth", () => {
  it("when registered, then GET /integrations sees discord with send_message taking a channel, a title and a template", () => {
    expect(destinations.get("discord")).toBe(discordDestination);
    const inputs = discordDestination.description.actions.find((a) => a.key === "send_message")?.inputs ?? [];
    expect(inputs.map((i) => [i.field, i.kind, i.required, i.template ?? false])).toEqual([
      ["id", "simple", true, false],
      ["title", "field", true, true],
      ["template", "field", true, true],
    ]);
  });

  it("when a rule lacks the title, then its metadata is refused", () => {
    const problems = ruleMetadataProblems(discordDestination.description, { action: "send_message", id: "1", template: "x" });

    expect(problems.map((p) => p.param)).toEqual(["metadata.title"]);
  });

  it("when the bot is added, then the authorize URL asks the bot scope with View Channels, Send Messages and Embed Links", () => {
    expect(discordBotPermissions).toBe(1024n + 2048n + 16384n);
    expect(discordDestination.oauth).toMatchObject({
      authorizeUrl: "https://discord.com/oauth2/authorize",
      tokenUrl: "https://discord.com/api/oauth2/token",
      scopes: ["bot"],
      authorizeParams: { permissions: "19456" },
    });
  });

  it("when the token answer carries the guild, then readGrant keeps its id and name as metadata", () => {
    const grant = readDiscordGrant({
      token_type: "Bearer",
      access_token: "zMndOe7jFLXGawdlxMOdNvXjjOce5X",
      scope: "bot",
      expires_in: 604800,
      refresh_token: "mgp8qnvBwJcmadwgCYKyYD5CAzGAX4",
      guild: { id: "2909267986347357250", name: "SomeTest", owner_id: "53908232999183680", roles: [] },
    });

    expect(grant).toEqual({ metadata: { guild_id: "2909267986347357250", guild_name: "SomeTest" } });
  });

  it("when the token answer has no guild, then readGrant reports that the bot was not added", () => {
    expect(readDiscordGrant({ access_token: "x", scope: "identify" }).error).toContain("the bot was not added");
  });
});
