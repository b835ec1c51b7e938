import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parseAddressPolicy } from "../addressPolicy.js";
import { generateSigningSecret } from "./signingSecret.js";
import { parseWebhookConfig } from "./webhookConfig.js";
import { webhookDescription } from "./webhookDescription.js";

const ajv = new Ajv2020({ allErrors: true, validateFormats: false });
const metadataSchema = ajv.compile(webhookDescription.metadata_schema);
const secretsSchema = ajv.compile(webhookDescription.secrets_schema);
const policy = parseAddressPolicy("");
const url = "https://hooks.example.com/in";

describe("webhookDescription", () => {
  it.each([
    [{ url }, {}],
    [{ url, http_method: "PUT", payload_mode: "raw", signature_algorithm: "sha512", signature_header: "X-Sig" }, {}],
    [
      { url, auth_scheme: "basic", headers: { "X-Tenant": "acme" } },
      { username: "ada", password: "" },
    ],
    [
      { url, auth_scheme: "bearer" },
      { token: "tok_1", signing_secret: generateSigningSecret() },
    ],
    [
      { url, auth_scheme: "custom_header" },
      { header_name: "X-Key", header_value: "v 1" },
    ],
  ])("when parseConfig accepts metadata %j, then the schemas accept both what was sent and what it returns", (metadata, secrets) => {
    const result = parseWebhookConfig({ metadata, secrets }, policy);
    expect(result.ok).toBe(true);
    expect(metadataSchema(metadata)).toBe(true);
    expect(secretsSchema(secrets)).toBe(true);
    if (result.ok) expect(metadataSchema(result.metadata)).toBe(true);
  });

  it.each([
    [{}, {}],
    [{ url: "ftp://example.com/" }, {}],
    [{ url, http_method: "GET" }, {}],
    [{ url, headers: { "X Bad": "1" } }, {}],
    [{ url, headers: { "X-A": "" } }, {}],
    [{ url, headers: Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`X-${i}`, "v"])) }, {}],
    [{ url, extra: true }, {}],
    [{ url, auth_scheme: "bearer" }, { token: "a b" }],
    [
      { url, auth_scheme: "basic" },
      { username: "a:b", password: "p" },
    ],
    [{ url }, { signing_secret: "sk_live_1" }],
    [{ url }, { api_key: "k" }],
  ])("when the schemas refuse metadata %j with secrets %j, then parseConfig refuses them too", (metadata, secrets) => {
    expect(metadataSchema(metadata) && secretsSchema(secrets)).toBe(false);
    expect(parseWebhookConfig({ metadata, secrets }, policy).ok).toBe(false);
  });

  it("when the secret fields are listed, then they are exactly the secrets schema's properties", () => {
    const properties = Object.keys(webhookDescription.secrets_schema.properties as object);
    expect(webhookDescription.secret_fields).toEqual(properties.map((name) => `secrets.${name}`));
  });

  it("when a form field is described, then its key is a metadata or secret field the config takes", () => {
    const metadataKeys = Object.keys(webhookDescription.metadata_schema.properties as object);
    const secretKeys = Object.keys(webhookDescription.secrets_schema.properties as object);
    const formKeys = webhookDescription.authentication.fields?.map((f) => f.key) ?? [];
    expect(formKeys.length).toBeGreaterThan(0);
    for (const key of formKeys) expect([...metadataKeys, ...secretKeys]).toContain(key);
    for (const field of webhookDescription.authentication.fields ?? []) {
      if (field.dependsOn !== undefined) expect(metadataKeys).toContain(field.dependsOn.field);
    }
  });

  it("when the field catalog is described, then it offers the payload fields Meshes recognises, once each", () => {
    const keys = webhookDescription.fields.map((f) => f.key);
    expect(keys).toEqual(["email", "id", "ip_address", "name", "first_name", "last_name", "phone", "resource_url"]);
    expect(webhookDescription.fields.find((f) => f.key === "email")?.constraints?.format).toBe("email");
  });

  it("when the description is served, then it cannot be changed by a caller", () => {
    expect(Object.isFrozen(webhookDescription.metadata_schema.properties)).toBe(true);
    expect(JSON.parse(JSON.stringify(webhookDescription))).toEqual(webhookDescription);
  });
});
