import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parseAddressPolicy } from "../addressPolicy.js";
import { hubspotDestination } from "../hubspot/hubspotDestination.js";
import { salesforceDestination } from "../salesforce/salesforceDestination.js";

const ajv = new Ajv2020({ allErrors: true, validateFormats: false });
const policy = parseAddressPolicy("");
const plugins = { hubspot: hubspotDestination, salesforce: salesforceDestination } as const;

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
  ] as const)("when %s's parseConfig accepts a config, then its published schemas accept it too", (type, metadata, secrets) => {
    const plugin = plugins[type];
    const result = plugin.parseConfig({ metadata, secrets }, policy);
    expect(result.ok).toBe(true);
    expect(ajv.validate(plugin.description.metadata_schema, metadata)).toBe(true);
    expect(ajv.validate(plugin.description.secrets_schema, secrets)).toBe(true);
    if (result.ok) expect(ajv.validate(plugin.description.secrets_schema, result.secrets)).toBe(true);
  });

  it.each([
    ["hubspot", { access_token: "at", extra: "x" }],
    ["hubspot", {}],
    ["salesforce", { access_token: "has space" }],
  ] as const)("when %s's schema refuses secrets %j, then parseConfig refuses them too", (type, secrets) => {
    const plugin = plugins[type];
    expect(ajv.validate(plugin.description.secrets_schema, secrets)).toBe(false);
    expect(plugin.parseConfig({ metadata: {}, secrets }, policy).ok).toBe(false);
  });

  it("when the secret paths are listed, then every secret the schema has is write-only and named in secret_fields", () => {
    for (const plugin of Object.values(plugins)) {
      const properties = plugin.description.secrets_schema.properties as Record<string, { writeOnly?: boolean }>;
      expect(Object.keys(properties).map((key) => `secrets.${key}`)).toEqual(plugin.description.secret_fields);
      for (const schema of Object.values(properties)) expect(schema.writeOnly).toBe(true);
    }
  });
});
