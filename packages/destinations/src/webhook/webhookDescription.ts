import type { ConnectionFieldDefinition, IntegrationAuthenticationField, IntegrationDescription } from "../integrationDescription.js";
import { deepFreeze } from "../providers/deepFreeze.js";
import { maxHeaderNameLength, maxHeaderValueLength } from "./headerRules.js";
import {
  authSchemes,
  defaultSignatureHeader,
  httpMethods,
  maxStaticHeaders,
  maxUrlLength,
  payloadModes,
  signatureAlgorithms,
} from "./webhookConfig.js";

const headerName = { type: "string", minLength: 1, maxLength: maxHeaderNameLength, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" };
const headerValue = {
  type: "string",
  minLength: 1,
  maxLength: maxHeaderValueLength,
  pattern: "^[\\x21-\\x7e](?:[\\t\\x20-\\x7e]*[\\x21-\\x7e])?$",
};

/**
 * The schemas describe each field; rules between fields (reserved header names, which secrets an
 * auth_scheme needs, the address policy) are enforced by `parseConfig` and named in the descriptions.
 */
export const webhookDescription: IntegrationDescription = deepFreeze({
  type: "webhook",
  name: "Webhook",
  description: "Sends each event as JSON to a URL (POST, PUT or PATCH), signed in X-Meshes-Signature and with Standard Webhooks headers.",
  authentication: { type: "none", fields: connectionForm() },
  actions: [
    {
      key: "send_webhook",
      label: "Send webhook",
      noun: "Webhook",
      description: "Send the event to the connection's URL (the payload as it came, wrapped or raw).",
    },
  ],
  fields: eventPayloadFields(),
  metadata_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    required: ["url"],
    properties: {
      url: {
        type: "string",
        format: "uri",
        maxLength: maxUrlLength,
        pattern: "^[Hh][Tt][Tt][Pp][Ss]?://",
        description: "http or https; no user name, password or fragment. Internal addresses are refused unless the operator allows them.",
      },
      http_method: { enum: [...httpMethods], default: "POST" },
      payload_mode: {
        enum: [...payloadModes],
        default: "wrapped",
        description:
          'wrapped: {"uuid","event","resource","resource_id","payload","time_created","time_sent"}. raw: the payload alone, the event in X-Meshes-* headers.',
      },
      auth_scheme: {
        enum: [...authSchemes],
        default: "none",
        description:
          "basic needs secrets.username and secrets.password; bearer needs secrets.token; custom_header needs secrets.header_name and secrets.header_value.",
      },
      headers: {
        type: "object",
        maxProperties: maxStaticHeaders,
        propertyNames: headerName,
        additionalProperties: headerValue,
        default: {},
        description:
          "Static headers, not secret. Not allowed: Authorization, Host, Content-Length, Content-Type, Content-Encoding, User-Agent, Expect, hop-by-hop headers, webhook-* and X-Meshes-*.",
      },
      signature_header: { ...headerName, default: defaultSignatureHeader, description: "Carries the hex HMAC of the body." },
      signature_algorithm: { enum: [...signatureAlgorithms], default: "sha256", description: "The HMAC of signature_header." },
    },
  },
  secrets_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    properties: {
      username: { type: "string", minLength: 1, maxLength: 256, pattern: "^[^:]*$", writeOnly: true, description: "auth_scheme basic." },
      password: { type: "string", maxLength: 4096, writeOnly: true, description: "auth_scheme basic." },
      token: {
        type: "string",
        minLength: 1,
        maxLength: 4096,
        pattern: "^[\\x21-\\x7e]+$",
        writeOnly: true,
        description: "auth_scheme bearer.",
      },
      header_name: { ...headerName, writeOnly: true, description: "auth_scheme custom_header; may be Authorization." },
      header_value: { ...headerValue, writeOnly: true, description: "auth_scheme custom_header." },
      signing_secret: {
        type: "string",
        pattern: "^whsec_[A-Za-z0-9+/]+={0,2}$",
        writeOnly: true,
        description: "whsec_ and the base64 of 24 to 64 bytes. Generated when the connection has none, and shown once.",
      },
    },
  },
  secret_fields: [
    "secrets.username",
    "secrets.password",
    "secrets.token",
    "secrets.header_name",
    "secrets.header_value",
    "secrets.signing_secret",
  ],
});

/**
 * The form of a webhook connection in Meshes' terms: every key is a key of `metadata` as a client sends it,
 * credentials included (the API moves those into the sealed secrets).
 */
function connectionForm(): IntegrationAuthenticationField[] {
  const when = (scheme: string) => ({ field: "auth_scheme", value: scheme });
  const select = (values: readonly string[]) => values.map((value) => ({ label: value, value }));
  return [
    { label: "URL", key: "url", type: "text", required: true, validate: "url", helpText: "http or https." },
    { label: "HTTP method", key: "http_method", type: "select", defaultValue: "POST", options: select(httpMethods) },
    { label: "Payload mode", key: "payload_mode", type: "select", defaultValue: "wrapped", options: select(payloadModes) },
    { label: "Authentication", key: "auth_scheme", type: "select", defaultValue: "none", options: select(authSchemes) },
    { label: "User name", key: "username", type: "text", required: true, dependsOn: when("basic") },
    { label: "Password", key: "password", type: "password", required: true, dependsOn: when("basic") },
    { label: "Bearer token", key: "token", type: "password", required: true, dependsOn: when("bearer") },
    { label: "Header name", key: "header_name", type: "text", required: true, dependsOn: when("custom_header") },
    { label: "Header value", key: "header_value", type: "password", required: true, dependsOn: when("custom_header") },
    {
      label: "Signing secret",
      key: "signing_secret",
      type: "password",
      helpText: "whsec_ and base64; generated and shown once when left empty.",
    },
  ];
}

/**
 * A receiver takes any JSON, so a webhook has no destination fields of its own: its catalog offers the payload
 * fields Meshes recognises on events, which a mapping is most likely to produce.
 */
function eventPayloadFields(): ConnectionFieldDefinition[] {
  const text = (key: string, label: string, description: string, format?: "email" | "phone" | "url") => ({
    key,
    label,
    type: "string" as const,
    description,
    ...(format === undefined ? {} : { constraints: { format } }),
  });
  return [
    text("email", "Email", "The contact's email address; what CRM and email destinations match contacts on.", "email"),
    text("id", "ID", "Your identifier of the contact or record."),
    text("ip_address", "IP address", "The address the action came from."),
    text("name", "Name", "The full name."),
    text("first_name", "First name", "The given name."),
    text("last_name", "Last name", "The family name."),
    text("phone", "Phone", "A phone number.", "phone"),
    text("resource_url", "Resource URL", "A link to the record in your app.", "url"),
  ];
}
