import type { ConfigError, ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import type { IntegrationAuthenticationField, JsonSchema } from "../integrationDescription.js";

/** An API-key connection keeps nothing readable: its metadata is empty. */
export type ApiKeyMetadata = Record<string, never>;

/** The sealed part of an API-key connection. */
export interface ApiKeySecrets {
  readonly api_key: string;
}

/** How one provider's keys look. */
export interface ApiKeyFormat {
  /** The provider's name, for messages. */
  readonly provider: string;
  /** The documented prefix of its keys (`re_`, `SG.`). */
  readonly prefix: string;
}

export const maxApiKeyLength = 512;

/**
 * Validates an API-key connection: `metadata` is an object with no keys of its own (the key, if a client sent it
 * there, was moved into `secrets` by the API), `secrets.api_key` is required on create and kept from the stored
 * config on an update that does not send it.
 */
export function parseApiKeyConfig(
  input: ParseConfigInput<ApiKeyMetadata, ApiKeySecrets>,
  format: ApiKeyFormat,
): ParseConfigResult<ApiKeyMetadata, ApiKeySecrets> {
  const errors: ConfigError[] = [];
  const { metadata } = input;
  if (!isPlainObject(metadata)) errors.push({ param: "metadata", msg: "must be an object" });
  else for (const key of Object.keys(metadata)) errors.push({ param: `metadata.${key}`, msg: "is not a known property" });

  const sent = input.secrets ?? {};
  let apiKey: unknown = input.previous?.secrets.api_key;
  if (!isPlainObject(sent)) errors.push({ param: "secrets", msg: "must be an object" });
  else {
    for (const key of Object.keys(sent)) if (key !== "api_key") errors.push({ param: `secrets.${key}`, msg: "is not a known property" });
    if (sent.api_key !== undefined) apiKey = sent.api_key;
  }
  const problem = apiKey === undefined ? `is required (a ${format.provider} API key)` : apiKeyProblem(apiKey, format);
  if (problem !== undefined) errors.push({ param: "secrets.api_key", msg: problem });

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, metadata: {}, secrets: { api_key: apiKey as string } };
}

function apiKeyProblem(value: unknown, format: ApiKeyFormat): string | undefined {
  if (typeof value !== "string") return "must be a string";
  if (value === "") return "must not be empty";
  if (value.length > maxApiKeyLength) return `must be at most ${maxApiKeyLength} characters`;
  if (!/^[\x21-\x7e]+$/.test(value)) return "must be printable ASCII without spaces";
  if (!value.startsWith(format.prefix)) return `must be a ${format.provider} API key (it starts with ${format.prefix})`;
  return undefined;
}

/** The stored API key of a connection, if its secrets hold one. */
export function apiKeyOf(secrets: unknown): string | undefined {
  if (!isPlainObject(secrets)) return undefined;
  return typeof secrets.api_key === "string" && secrets.api_key !== "" ? secrets.api_key : undefined;
}

/** The connection form: one password field, moved into the sealed secrets by the API. */
export function apiKeyForm(format: ApiKeyFormat, helpText: string): IntegrationAuthenticationField[] {
  return [{ label: `${format.provider} API key`, key: "api_key", type: "password", required: true, helpText }];
}

export function apiKeySchemas(format: ApiKeyFormat): { metadata_schema: JsonSchema; secrets_schema: JsonSchema } {
  return {
    metadata_schema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      additionalProperties: false,
      properties: {},
      description: `Nothing: a ${format.provider} connection is its API key, sent as metadata.api_key or secrets.api_key and sealed.`,
    },
    secrets_schema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      additionalProperties: false,
      required: ["api_key"],
      properties: {
        api_key: {
          type: "string",
          minLength: format.prefix.length + 1,
          maxLength: maxApiKeyLength,
          pattern: `^${format.prefix.replace(/[.]/g, "\\.")}[\\x21-\\x7e]+$`,
          writeOnly: true,
          description: `A ${format.provider} API key (${format.prefix}...). Required on create; an update that omits it keeps the stored one.`,
        },
      },
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
