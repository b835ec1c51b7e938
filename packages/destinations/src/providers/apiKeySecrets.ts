import type { ConfigError, ParseConfigInput, ParseConfigResult } from "../destinationPlugin.js";
import type { IntegrationAuthenticationField, JsonSchema } from "../integrationDescription.js";
import { isPlainObject } from "./isPlainObject.js";

/** The secrets of a connection that authenticates with one API key: sealed at rest, never returned. */
export interface ApiKeySecrets {
  readonly api_key: string;
}

/** The metadata of a connection that is its API key alone (the key names the account): nothing. */
export type ApiKeyMetadata = Readonly<Record<string, never>>;

/** How one provider's keys look, for providers that document a prefix (Resend's `re_`, SendGrid's `SG.`). */
export interface ApiKeyFormat {
  /** The provider's name, for messages. */
  readonly provider: string;
  /** The documented prefix of its keys. */
  readonly prefix: string;
}

/** Longer than any provider's key we know of; a paste of something else is refused rather than sent. */
export const maxApiKeyLength = 512;

/** A key is sent in a header: printable ASCII without spaces, like every provider's keys. */
const apiKeyPattern = /^[\x21-\x7e]+$/;

/**
 * The API key of a create or update: the one sent, else (on update) the stored one. With a `format`, a key sent
 * must start with the provider's prefix. Every problem is pushed to `errors` under `secrets.*`, never quoting the key.
 */
export function parseApiKeySecrets(
  secrets: unknown,
  previous: ApiKeySecrets | undefined,
  errors: ConfigError[],
  format?: ApiKeyFormat,
): ApiKeySecrets | undefined {
  if (secrets !== undefined && !isPlainObject(secrets)) {
    errors.push({ param: "secrets", msg: "must be an object" });
    return undefined;
  }
  const sent = secrets ?? {};
  for (const key of Object.keys(sent)) if (key !== "api_key") errors.push({ param: `secrets.${key}`, msg: "is not a known property" });
  if (sent.api_key === undefined) {
    if (previous !== undefined) return { api_key: previous.api_key };
    errors.push({ param: "secrets.api_key", msg: format === undefined ? "is required" : `is required (a ${format.provider} API key)` });
    return undefined;
  }
  const problem = apiKeyProblem(sent.api_key, format);
  if (problem !== undefined) {
    errors.push({ param: "secrets.api_key", msg: problem });
    return undefined;
  }
  return { api_key: sent.api_key as string };
}

function apiKeyProblem(value: unknown, format: ApiKeyFormat | undefined): string | undefined {
  if (typeof value !== "string") return "must be a string";
  if (value.length === 0 || value.length > maxApiKeyLength) return `must be 1 to ${maxApiKeyLength} characters`;
  if (!apiKeyPattern.test(value)) return "must be printable ASCII without spaces";
  if (format !== undefined && !value.startsWith(format.prefix))
    return `must be a ${format.provider} API key (it starts with ${format.prefix})`;
  return undefined;
}

/**
 * Validates the config of a connection that is its API key alone: `metadata` is an object with no keys (the key,
 * if a client sent it there, was moved into `secrets` by the API), `secrets.api_key` as `parseApiKeySecrets` reads it.
 */
export function parseApiKeyConfig(
  input: ParseConfigInput<ApiKeyMetadata, ApiKeySecrets>,
  format?: ApiKeyFormat,
): ParseConfigResult<ApiKeyMetadata, ApiKeySecrets> {
  const { metadata } = input;
  if (!isPlainObject(metadata)) return { ok: false, errors: [{ param: "metadata", msg: "must be an object" }] };
  const errors: ConfigError[] = Object.keys(metadata).map((key) => ({ param: `metadata.${key}`, msg: "is not a known property" }));
  const secrets = parseApiKeySecrets(input.secrets, input.previous?.secrets, errors, format);
  if (errors.length > 0 || secrets === undefined) return { ok: false, errors };
  return { ok: true, metadata: {}, secrets };
}

/** The API key of a stored connection's secrets, if it has a usable one. */
export function apiKeyOf(secrets: unknown): string | undefined {
  if (!isPlainObject(secrets)) return undefined;
  return typeof secrets.api_key === "string" && secrets.api_key !== "" ? secrets.api_key : undefined;
}

/**
 * The secrets schema of an API-key integration, as `GET /integrations` shows it. The key is not `required`: an
 * update that omits it keeps the stored one. A `format` adds its prefix to the pattern.
 */
export function apiKeySecretsSchema(description: string, format?: ApiKeyFormat): JsonSchema {
  const prefix = format === undefined ? "" : format.prefix;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    properties: {
      api_key: {
        type: "string",
        minLength: prefix.length + 1,
        maxLength: maxApiKeyLength,
        pattern: `^${prefix.replace(/[.]/g, "\\.")}[\\x21-\\x7e]+$`,
        writeOnly: true,
        description,
      },
    },
  };
}

/** The schemas of a connection that is its API key alone, in a provider's `format`. */
export function apiKeySchemas(format: ApiKeyFormat): { metadata_schema: JsonSchema; secrets_schema: JsonSchema } {
  return {
    metadata_schema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      additionalProperties: false,
      properties: {},
      description: `Nothing: a ${format.provider} connection is its API key, sent as metadata.api_key or secrets.api_key and sealed.`,
    },
    secrets_schema: apiKeySecretsSchema(
      `A ${format.provider} API key (${format.prefix}...). Required on create; an update that omits it keeps the stored one.`,
      format,
    ),
  };
}

/** The connection form: one password field, moved into the sealed secrets by the API. */
export function apiKeyForm(format: ApiKeyFormat, helpText: string): IntegrationAuthenticationField[] {
  return [{ label: `${format.provider} API key`, key: "api_key", type: "password", required: true, helpText }];
}
