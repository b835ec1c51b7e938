import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parseAddressPolicy } from "../addressPolicy.js";
import { discordDestination } from "../discord/discordDestination.js";
import { hubspotDestination } from "../hubspot/hubspotDestination.js";
import { salesforceDestination } from "../salesforce/salesforceDestination.js";
import { slackDestination } from "../slack/slackDestination.js";
import { parseOAuthSecrets } from "./oauthConnectionSecrets.js";

const ajv = new Ajv2020({ allErrors: true, validateFormats: false });
const policy = parseAddressPolicy("");
const plugins = {
  hubspot: hubspotDestination,
  salesforce: salesforceDestination,
  slack: slackDestination,
  discord: discordDestination,
} as const;

describe("OAuth connection schemas", () => {
  it.each([
    [
      "hubspot",
      {},
      { access_token: "at", refresh_token: "rt", expires_at: "2026-12-08T10:00:00.000Z", token_type: "bearer", scope: "a b" },
    ],
    [
      "salesforce",
      {},
      { access_token: "00D!at", refresh_token: "rt", instance_url: "https://acme.my.salesforce.com", scope: "api refresh_token" },
    ],
    ["salesforce", { organization_id: "00D5g000004ABCDEAW", user_id: "0055g000003XYZQAA4" }, { access_token: "00D!at" }],
    [
      "slack",
      { team_id: "T0123", team_name: "Acme", bot_user_id: "U0456" },
      { access_token: "xoxb-1", refresh_token: "xoxe-1", expires_at: "2026-12-08T10:00:00Z", token_type: "bot", scope: "chat:write" },
    ],
    ["discord", { guild_id: "1234567890" }, { access_token: "at", refresh_token: "rt", expires_at: "2026-12-08T10:00:00Z" }],
  ] as const)("when %s's parseConfig accepts a config, then its published schemas accept it too", (type, metadata, secrets) => {
    const plugin = plugins[type];
    const result = plugin.parseConfig({ metadata, secrets, fromGrant: true }, policy);
    expect(result.ok).toBe(true);
    expect(ajv.validate(plugin.description.metadata_schema, metadata)).toBe(true);
    expect(ajv.validate(plugin.description.secrets_schema, secrets)).toBe(true);
    if (result.ok) expect(ajv.validate(plugin.description.secrets_schema, result.secrets)).toBe(true);
  });

  it.each([
    ["hubspot", { access_token: "at", extra: "x" }],
    ["hubspot", {}],
    ["salesforce", { access_token: "has space" }],
    ["slack", { access_token: "xoxb-1", webhook_url: "https://hooks.slack.com/x" }],
    ["discord", { refresh_token: "rt" }],
  ] as const)("when %s's schema refuses secrets %j, then parseConfig refuses them too", (type, secrets) => {
    const plugin = plugins[type];
    expect(ajv.validate(plugin.description.secrets_schema, secrets)).toBe(false);
    expect(plugin.parseConfig({ metadata: type === "discord" ? { guild_id: "1" } : {}, secrets, fromGrant: true }, policy).ok).toBe(false);
  });

  it("when the secret paths are listed, then every secret the schema has is write-only and named in secret_fields", () => {
    for (const plugin of Object.values(plugins)) {
      const properties = plugin.description.secrets_schema.properties as Record<string, { writeOnly?: boolean }>;
      expect(Object.keys(properties).map((key) => `secrets.${key}`)).toEqual(plugin.description.secret_fields);
      for (const schema of Object.values(properties)) expect(schema.writeOnly).toBe(true);
    }
  });
});

describe("parseOAuthSecrets on update", () => {
  const salesforce = salesforceDestination;
  const stored = {
    access_token: "old",
    refresh_token: "rt",
    expires_at: "2026-12-08T10:00:00.000Z",
    token_type: "Bearer",
    scope: "api refresh_token",
    instance_url: "https://acme.my.salesforce.com",
  };
  const update = (secrets: Record<string, string>) =>
    salesforce.parseConfig({ metadata: {}, secrets, previous: { metadata: {}, secrets: stored } }, policy);

  it("when a new access token is sent alone, then the stored expiry, type and scope go (they described the old token) and the refresh token and instance_url stay", () => {
    expect(update({ access_token: "new" })).toEqual({
      ok: true,
      metadata: {},
      secrets: { access_token: "new", refresh_token: "rt", instance_url: "https://acme.my.salesforce.com" },
    });
  });

  it("when an update sends no access token, then every stored secret stays and what is sent replaces its own", () => {
    expect(update({ instance_url: "https://eu.my.salesforce.com/" })).toEqual({
      ok: true,
      metadata: {},
      secrets: { ...stored, instance_url: "https://eu.my.salesforce.com" },
    });
  });

  it("when the connection is not refreshable, then the refresh token and expiry are neither taken nor kept", () => {
    const parsed = parseOAuthSecrets({ token_type: "Bearer" }, stored, { refreshable: false });
    expect(parsed).toEqual({ ok: true, secrets: { access_token: "old", token_type: "Bearer", scope: "api refresh_token" } });
  });
});
