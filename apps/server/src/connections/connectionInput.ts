import type { ConnectionInput } from "@switchyard/client";
import type { DestinationPlugin } from "@switchyard/destinations";
import { BadRequestError } from "../http/errors.js";

/**
 * The integration type a create names: `type`, as Meshes names it, or `integration_type`, its former name
 * (deprecated, accepted for one minor version). One is required; both must agree.
 */
export function integrationTypeOf(input: Pick<ConnectionInput, "type" | "integration_type">): string {
  const { type, integration_type: former } = input;
  if (type !== undefined && former !== undefined && type !== former) {
    throw new BadRequestError("type and integration_type name different integrations.", [
      { param: "integration_type", msg: `is deprecated and must equal type (${type}) when both are sent` },
    ]);
  }
  const named = type ?? former;
  if (named === undefined) throw new BadRequestError("The integration type is missing.", [{ param: "type", msg: "is required" }]);
  return named;
}

/** A connection's config as sent, with the credentials found inside `metadata` moved into `secrets`. */
export interface SentConfig {
  readonly metadata: unknown;
  /** Undefined when none were sent, in either place. */
  readonly secrets: unknown;
}

/**
 * Meshes' clients send a connection's credentials inside `metadata`; Switchyard keeps them apart, sealed. Every
 * key of `metadata` that names one of the plugin's secrets (its `secret_fields`) is moved into `secrets`, so it
 * is sealed and never returned. The same secret sent in both places with different values is refused (400).
 * Anything that is not an object is passed on as it is, for the plugin to refuse.
 */
export function moveSecretsOutOfMetadata(plugin: DestinationPlugin, metadata: unknown, secrets: unknown): SentConfig {
  if (!isPlainObject(metadata) || (secrets !== undefined && !isPlainObject(secrets))) return { metadata, secrets };
  const secretKeys = new Set(
    plugin.description.secret_fields.filter((path) => path.startsWith("secrets.")).map((path) => path.slice("secrets.".length)),
  );
  const found = Object.keys(metadata).filter((key) => secretKeys.has(key));
  if (found.length === 0) return { metadata, secrets };
  const moved: Record<string, unknown> = { ...secrets };
  for (const key of found) {
    if (key in moved && moved[key] !== metadata[key]) {
      throw new BadRequestError(`The secret ${key} is sent twice, with different values.`, [
        { param: `metadata.${key}`, msg: `differs from secrets.${key}; send it once` },
      ]);
    }
    moved[key] = metadata[key];
  }
  return { metadata: Object.fromEntries(Object.entries(metadata).filter(([key]) => !secretKeys.has(key))), secrets: moved };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
