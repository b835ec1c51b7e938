import type { ConfigError } from "../destinationPlugin.js";

/** The secrets of a connection that authenticates with one API key: sealed at rest, never returned. */
export interface ApiKeySecrets {
  readonly api_key: string;
}

/** Longer than any provider's key we know of; a paste of something else is refused rather than sent. */
export const maxApiKeyLength = 512;

/** A key is sent in a header: printable ASCII without spaces, like every provider's keys. */
const apiKeyPattern = "^[\\x21-\\x7e]+$";

/** The secrets schema of an API-key integration, as `GET /integrations` shows it. */
export function apiKeySecretsSchema(description: string): Readonly<Record<string, unknown>> {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    additionalProperties: false,
    properties: {
      api_key: { type: "string", minLength: 1, maxLength: maxApiKeyLength, pattern: apiKeyPattern, writeOnly: true, description },
    },
  };
}

/**
 * The API key of a create or update: the one sent, else (on update) the stored one. Every problem is pushed to
 * `errors` under `secrets.*`, never quoting the key.
 */
export function parseApiKeySecrets(
  secrets: unknown,
  previous: ApiKeySecrets | undefined,
  errors: ConfigError[],
): ApiKeySecrets | undefined {
  if (secrets !== undefined && (typeof secrets !== "object" || secrets === null || Array.isArray(secrets))) {
    errors.push({ param: "secrets", msg: "must be an object" });
    return undefined;
  }
  const sent = (secrets ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(sent)) if (key !== "api_key") errors.push({ param: `secrets.${key}`, msg: "is not a known property" });
  if (sent.api_key === undefined) {
    if (previous !== undefined) return { api_key: previous.api_key };
    errors.push({ param: "secrets.api_key", msg: "is required" });
    return undefined;
  }
  const problem = apiKeyProblem(sent.api_key);
  if (problem !== undefined) {
    errors.push({ param: "secrets.api_key", msg: problem });
    return undefined;
  }
  return { api_key: sent.api_key as string };
}

function apiKeyProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return "must be a string";
  if (value.length === 0 || value.length > maxApiKeyLength) return `must be 1 to ${maxApiKeyLength} characters`;
  return new RegExp(apiKeyPattern).test(value) ? undefined : "must be printable ASCII without spaces";
}

/** The API key of a stored connection's secrets, if it has a usable one. */
export function apiKeyOf(secrets: unknown): string | undefined {
  if (typeof secrets !== "object" || secrets === null) return undefined;
  const key = (secrets as Record<string, unknown>).api_key;
  return typeof key === "string" && key !== "" ? key : undefined;
}
