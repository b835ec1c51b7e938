import type {
  Connection,
  ConnectionCreated,
  ConnectionDeleted,
  ConnectionInput,
  ConnectionList,
  ConnectionUpdate,
  IntegrationType,
  SigningSecretRotated,
} from "@switchyard/client";
import { type Db, inTransaction } from "@switchyard/db";
import {
  type AddressPolicy,
  type ConnectionConfig,
  type DeliveryContext,
  type DestinationPlugin,
  destinations,
  ProviderReadError,
  type ProviderSettingsByType,
  rotateSigningSecret,
  type WebhookSecrets,
} from "@switchyard/destinations";
import { type SecretBox, secretContext } from "@switchyard/secret-box";
import { pageWindow, toPage } from "../http/cursorPage.js";
import { BadGatewayError, ConflictError, NotFoundError, UnprocessableEntityError } from "../http/errors.js";
import { optionalField } from "../http/optionalField.js";
import { uuidv7 } from "../ids.js";
import { connectionHasActiveRules } from "../rules/rules.repository.js";
import { mustFindWorkspace } from "../workspaces/workspaces.service.js";
import { integrationTypeOf, moveSecretsOutOfMetadata } from "./connectionInput.js";
import {
  type ConnectionRow,
  deactivateRulesOfConnection,
  findConnection,
  insertConnection,
  listConnections,
  softDeleteConnection,
  updateConnection,
  updateConnectionSecrets,
} from "./connections.repository.js";
import { insertGeneratedMapping } from "./defaultMappings.repository.js";
import { generatedMapping } from "./generatedMapping.js";

export interface ConnectionDeps {
  readonly db: Db;
  readonly secretBox: SecretBox;
  /** Which destination addresses a connection may name (the operator's allow-list). */
  readonly addressPolicy: AddressPolicy;
  /** How long a rotated-out signing secret keeps signing. */
  readonly signingSecretGraceMs: number;
  /** The operator's provider settings, for reads asked of providers (action data, fields). */
  readonly providers: ProviderSettingsByType;
}

/**
 * Creates a connection, and its default mapping (`generated`) in the same transaction. Its configuration is
 * validated by its integration's plugin, credentials sent inside `metadata` included; the secrets are sealed
 * and only the ones Switchyard generated (a webhook's signing secret) are shown, this once. `createdBy` is
 * the caller (an access key, or `cli`).
 */
export async function createConnection(
  deps: ConnectionDeps,
  organizationId: string,
  input: ConnectionInput,
  createdBy: string,
): Promise<ConnectionCreated> {
  const type = integrationTypeOf(input);
  await mustFindWorkspace(deps.db, organizationId, input.workspace);
  const plugin = pluginFor(type);
  const sent = moveSecretsOutOfMetadata(plugin, input.metadata, input.secrets);
  const parsed = plugin.parseConfig(sent, deps.addressPolicy);
  if (!parsed.ok) throw new UnprocessableEntityError("The connection's configuration is invalid.", parsed.errors);
  const row = await storeNewConnection(deps, plugin, {
    workspaceId: input.workspace,
    name: input.name,
    metadata: parsed.metadata,
    secrets: parsed.secrets,
    hidden: input.hidden ?? false,
    createdBy,
  });
  return { connection: toConnection(row), secrets: generatedSecrets(parsed.secrets, sent.secrets) };
}

/**
 * Stores a connection whose config its plugin has parsed, secrets sealed, with its default mapping (`generated`)
 * in the same transaction: for a create, and for the OAuth callback.
 */
export async function storeNewConnection(
  deps: Pick<ConnectionDeps, "db" | "secretBox">,
  plugin: DestinationPlugin,
  input: {
    readonly workspaceId: string;
    readonly name: string;
    readonly metadata: unknown;
    readonly secrets: unknown;
    readonly hidden: boolean;
    readonly createdBy: string;
  },
): Promise<ConnectionRow> {
  const id = uuidv7();
  return inTransaction(deps.db, async (trx) => {
    const inserted = await insertConnection(trx, {
      id,
      workspace_id: input.workspaceId,
      integration_type: plugin.type,
      name: input.name,
      metadata: input.metadata,
      secrets_ciphertext: sealSecrets(deps.secretBox, id, input.secrets),
      hidden: input.hidden,
      created_by: input.createdBy,
    });
    await insertGeneratedMapping(trx, {
      connection_id: id,
      id: uuidv7(),
      mapping_id: uuidv7(),
      ...generatedMapping(plugin),
      created_by: input.createdBy,
    });
    return inserted;
  });
}

export async function getConnection(db: Db, organizationId: string, id: string): Promise<Connection> {
  return toConnection(await mustFindConnection(db, organizationId, id));
}

export async function listConnectionPage(
  db: Db,
  organizationId: string,
  page: { limit: number; cursor?: string | undefined; workspaceId?: string | undefined },
): Promise<ConnectionList> {
  if (page.workspaceId !== undefined) await mustFindWorkspace(db, organizationId, page.workspaceId);
  const rows = await listConnections(db, organizationId, { workspaceId: page.workspaceId }, pageWindow(page));
  return toPage(rows, page.limit, toConnection);
}

/**
 * Updates what is given. New metadata or secrets go through the plugin again (secrets not sent keep their
 * values); `active: false` deactivates the connection as `manually_inactivated` (a connection already
 * inactive keeps its reason); `active: true` reactivates it and ends its failure streak.
 */
export async function updateConnectionConfig(
  deps: ConnectionDeps,
  organizationId: string,
  id: string,
  input: ConnectionUpdate,
): Promise<Connection> {
  return changeLocked(deps.db, organizationId, id, async (trx, row) => {
    const config = input.metadata !== undefined || input.secrets !== undefined ? reparseConfig(deps, row, input) : row;
    const active = input.active ?? row.active;
    const deactivated = !active && row.active;
    const updated = await updateConnection(trx, row.id, {
      name: input.name ?? row.name,
      metadata: config.metadata,
      secrets_ciphertext: config.secrets_ciphertext,
      active,
      inactive_reason: active ? null : deactivated ? "deactivated through the API" : row.inactive_reason,
      inactive_reason_code: active ? null : deactivated ? "manually_inactivated" : row.inactive_reason_code,
      hidden: input.hidden ?? row.hidden,
      clearFailureStreak: active && !row.active,
    });
    return toConnection(updated);
  });
}

/**
 * Deletes (hides) a connection; its deliveries' history keeps it. Refused (409) while an active rule routes to
 * it, unless `force`: then those rules are deactivated in the same transaction.
 */
export async function deleteConnection(db: Db, organizationId: string, id: string, force: boolean): Promise<ConnectionDeleted> {
  return changeLocked(db, organizationId, id, async (trx, row) => {
    if (force) await deactivateRulesOfConnection(trx, row.id);
    else if (await connectionHasActiveRules(trx, row.id)) {
      throw new ConflictError("Active rules use this connection; delete or deactivate them first, or send force_delete: true.", [
        { param: "id", msg: "is used by at least one active rule" },
      ]);
    }
    await softDeleteConnection(trx, row.id);
    return { id: row.id, type: row.integration_type as IntegrationType };
  });
}

/** A new webhook signing secret; the old one keeps signing for the grace period. */
export async function rotateConnectionSigningSecret(
  deps: ConnectionDeps,
  organizationId: string,
  id: string,
): Promise<SigningSecretRotated> {
  return changeLocked(deps.db, organizationId, id, async (trx, row) => {
    if (row.integration_type !== "webhook") {
      throw new UnprocessableEntityError("Only webhook connections have a signing secret.", [
        { param: "id", msg: `is a ${row.integration_type} connection` },
      ]);
    }
    const secrets = openSecrets(deps.secretBox, row.id, row.secrets_ciphertext) as WebhookSecrets;
    const rotated = rotateSigningSecret(secrets, new Date(), deps.signingSecretGraceMs);
    await updateConnectionSecrets(trx, row.id, sealSecrets(deps.secretBox, row.id, rotated));
    return {
      signing_secret: rotated.signing_secret,
      previous_expires_at: rotated.previous_signing_secret?.expires_at ?? new Date().toISOString(),
    };
  });
}

/** The new configuration through the plugin, given the stored one (secrets not sent keep their values); sealed again. */
function reparseConfig(
  deps: ConnectionDeps,
  row: ConnectionRow,
  input: ConnectionUpdate,
): Pick<ConnectionRow, "metadata" | "secrets_ciphertext"> {
  const plugin = pluginFor(row.integration_type);
  const previous = { metadata: row.metadata, secrets: openSecrets(deps.secretBox, row.id, row.secrets_ciphertext) };
  const sent = moveSecretsOutOfMetadata(plugin, input.metadata ?? row.metadata, input.secrets);
  const parsed = plugin.parseConfig({ ...sent, previous }, deps.addressPolicy);
  if (!parsed.ok) throw new UnprocessableEntityError("The connection's configuration is invalid.", parsed.errors);
  return { metadata: parsed.metadata, secrets_ciphertext: sealSecrets(deps.secretBox, row.id, parsed.secrets) };
}

/**
 * Runs `change` in a transaction that holds the organization's connection `id` locked; 404 when there is none.
 * `change` works with `row.id`, never the path's `id`: paths match ids in any case, and secrets are sealed to the
 * stored (lower-case) id, under which the worker opens them.
 */
export async function changeLocked<T>(
  db: Db,
  organizationId: string,
  id: string,
  change: (trx: Db, row: ConnectionRow) => Promise<T>,
): Promise<T> {
  return inTransaction(db, async (trx) => change(trx, await mustFindConnection(trx, organizationId, id, true)));
}

/** The organization's live connection `id`; 404 when there is none (another organization's included). */
export async function mustFindConnection(db: Db, organizationId: string, id: string, forUpdate = false): Promise<ConnectionRow> {
  const row = await findConnection(db, organizationId, id, { forUpdate });
  if (row === undefined) throw new NotFoundError("Connection not found.");
  return row;
}

/** A connection's secrets are sealed bound to its row (`secretContext.connection`): they open only under its id. */
export function sealSecrets(secretBox: SecretBox, id: string, secrets: unknown): string {
  return secretBox.seal(JSON.stringify(secrets), secretContext.connection(id));
}

function openSecrets(secretBox: SecretBox, id: string, sealed: string): unknown {
  return JSON.parse(secretBox.open(sealed, secretContext.connection(id))) as unknown;
}

/** The stored connection as its plugin reads it, secrets opened: only for a plugin that asks its provider. */
export function openConnectionConfig(secretBox: SecretBox, row: ConnectionRow): ConnectionConfig {
  return { id: row.id, metadata: row.metadata, secrets: openSecrets(secretBox, row.id, row.secrets_ciphertext) };
}

/** The plugin of an integration type; 422 for a type this server does not support. */
export function pluginFor(type: string): DestinationPlugin {
  const plugin = destinations.get(type);
  if (plugin === undefined) {
    throw new UnprocessableEntityError(`Integration type ${type} is not available on this server.`, [
      { param: "type", msg: `must be one of: ${[...destinations.keys()].join(", ")}` },
    ]);
  }
  return plugin;
}

/** What a read asked of a connection's provider (action data, fields) is made under: the operator's address policy and settings. */
export function providerContext(deps: Pick<ConnectionDeps, "addressPolicy" | "providers">): DeliveryContext {
  return { addressPolicy: deps.addressPolicy, providers: deps.providers };
}

/** Runs a read asked of a provider; its failure (unreachable, an error answer) is a 502 naming the provider's answer. */
export async function askProvider<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ProviderReadError) throw new BadGatewayError(`The provider did not answer as expected: ${error.message}`);
    throw error;
  }
}

/** The secrets the server made up (not those the client sent): shown once, at creation. */
function generatedSecrets(stored: unknown, sent: unknown): Record<string, unknown> {
  const sentKeys = new Set(typeof sent === "object" && sent !== null ? Object.keys(sent) : []);
  return Object.fromEntries(Object.entries(stored as Record<string, unknown>).filter(([key]) => !sentKeys.has(key)));
}

/**
 * A connection in Meshes' shape: `type` is the integration type (`integration_type` repeats it, deprecated);
 * `inactive_reason` is Meshes' word for why it is inactive, when Meshes has one, and `inactive_detail` ours.
 */
export function toConnection(row: ConnectionRow): Connection {
  return {
    id: row.id,
    type: row.integration_type as IntegrationType,
    workspace: row.workspace_id,
    integration_type: row.integration_type as IntegrationType,
    name: row.name,
    metadata: row.metadata as Record<string, unknown>,
    active: row.active,
    ...optionalField("inactive_reason", row.active ? null : row.inactive_reason_code),
    ...optionalField("inactive_detail", row.active ? null : row.inactive_reason),
    hidden: row.hidden,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
