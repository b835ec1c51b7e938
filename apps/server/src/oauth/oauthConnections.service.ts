import { createHash } from "node:crypto";
import type { OAuthAuthorization, OAuthConnectionCompleted, OAuthConnectionInput } from "@switchyard/client";
import {
  authorizeUrlOf,
  type DestinationPlugin,
  type OAuthClient,
  oauthClientOf,
  pkceChallenge,
  randomOAuthSecret,
  requestTokens,
} from "@switchyard/destinations";
import type { ConnectionRow } from "../connections/connections.repository.js";
import { updateConnection } from "../connections/connections.repository.js";
import {
  type ConnectionDeps,
  changeLocked,
  mustFindConnection,
  pluginFor,
  providerContext,
  sealSecrets,
  storeNewConnection,
  toConnection,
} from "../connections/connections.service.js";
import { BadGatewayError, BadRequestError, NotFoundError, UnprocessableEntityError } from "../http/errors.js";
import { uuidv7 } from "../ids.js";
import { mustFindWorkspace } from "../workspaces/workspaces.service.js";
import {
  findOAuthAuthorization,
  insertOAuthAuthorization,
  type OAuthAuthorizationRow,
  purgeOAuthAuthorizations,
  useOAuthAuthorization,
} from "./oauthAuthorizations.repository.js";

export interface OAuthDeps extends ConnectionDeps {
  /** The longest wait for the provider's token endpoint in the callback (within the request's deadline). */
  readonly exchangeTimeoutMs: number;
}

/** How long a started authorization may wait for its callback. */
export const authorizationLifetimeMs = 10 * 60_000;

/** The path of the redirect URI under the public URL: the route of `completeOAuthConnection`. */
export const callbackPath = "/api/v1/oauth/callback";

/** The sealed verifier is bound to its row, as connection secrets are (`secretContext`). */
const verifierContext = (id: string) => `oauth_authorizations.verifier_ciphertext:${id}`;

const stateHashOf = (state: string) => createHash("sha256").update(state, "utf8").digest();

/**
 * Opens the authorization of a new connection of `input.type`: 422 unless the type is an OAuth integration whose
 * app the operator configured; 404 for a workspace not the caller's. `publicUrl` is where the provider sends the
 * user back (`SWITCHYARD_PUBLIC_URL`, or the origin the request was sent to).
 */
export async function startOAuthConnection(
  deps: OAuthDeps,
  organizationId: string,
  input: OAuthConnectionInput,
  createdBy: string,
  publicUrl: string,
): Promise<OAuthAuthorization> {
  const { client } = oauthAppOf(deps, input.type, "type");
  await mustFindWorkspace(deps.db, organizationId, input.workspace);
  return openAuthorization(deps, client, publicUrl, {
    organization_id: organizationId,
    workspace_id: input.workspace,
    integration_type: input.type,
    connection_name: input.name,
    connection_id: null,
    hidden: input.hidden ?? false,
    created_by: createdBy,
  });
}

/** Opens the authorization that will replace an OAuth connection's tokens (and reactivate it). */
export async function reauthorizeConnection(
  deps: OAuthDeps,
  organizationId: string,
  id: string,
  createdBy: string,
  publicUrl: string,
): Promise<OAuthAuthorization> {
  const row = await mustFindConnection(deps.db, organizationId, id);
  const { client } = oauthAppOf(deps, row.integration_type, "id");
  return openAuthorization(deps, client, publicUrl, {
    organization_id: organizationId,
    workspace_id: row.workspace_id,
    integration_type: row.integration_type,
    connection_name: row.name,
    connection_id: row.id,
    hidden: row.hidden,
    created_by: createdBy,
  });
}

type PendingFields = Omit<
  OAuthAuthorizationRow,
  "id" | "state_hash" | "verifier_ciphertext" | "redirect_uri" | "created_at" | "expires_at" | "used_at"
>;

async function openAuthorization(
  deps: OAuthDeps,
  client: OAuthClient,
  publicUrl: string,
  fields: PendingFields,
): Promise<OAuthAuthorization> {
  const id = uuidv7();
  const state = randomOAuthSecret();
  const verifier = randomOAuthSecret();
  const redirectUri = `${publicUrl}${callbackPath}`;
  const expiresAt = new Date(Date.now() + authorizationLifetimeMs);
  await purgeOAuthAuthorizations(deps.db);
  await insertOAuthAuthorization(deps.db, {
    id,
    state_hash: stateHashOf(state),
    verifier_ciphertext: deps.secretBox.seal(verifier, verifierContext(id)),
    ...fields,
    redirect_uri: redirectUri,
    expires_at: expiresAt,
  });
  return {
    authorize_url: authorizeUrlOf(client, { state, codeChallenge: pkceChallenge(verifier), redirectUri }),
    redirect_uri: redirectUri,
    expires_at: expiresAt.toISOString(),
  };
}

/** The plugin of an OAuth integration and the operator's app for it; 422 naming `param` otherwise. */
function oauthAppOf(deps: Pick<OAuthDeps, "providers">, type: string, param: string): { plugin: DestinationPlugin; client: OAuthClient } {
  const plugin = pluginFor(type);
  if (plugin.oauth === undefined) {
    throw new UnprocessableEntityError(`${type} connections do not use OAuth; create them with POST /api/v1/connections.`, [
      { param, msg: `${type} is not an OAuth integration` },
    ]);
  }
  const client = oauthClientOf(type, plugin.oauth, deps.providers);
  if (client === undefined) {
    const prefix = `SWITCHYARD_${type.toUpperCase()}`;
    throw new UnprocessableEntityError(`The operator has not configured the ${type} OAuth app.`, [
      { param, msg: `${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET must be set on the server` },
    ]);
  }
  return { plugin, client };
}

export interface CallbackQuery {
  readonly state: string;
  readonly code?: string | undefined;
  readonly error?: string | undefined;
  readonly error_description?: string | undefined;
}

/**
 * The provider's redirect: the authorization its `state` names (400 when there is none, or it is used or expired:
 * nothing changes), ended by the provider's `error` if it sent one, else its code exchanged for tokens, and the
 * connection created or re-authorized with them.
 */
export async function completeOAuthConnection(deps: OAuthDeps, query: CallbackQuery): Promise<OAuthConnectionCompleted> {
  const pending = await findOAuthAuthorization(deps.db, stateHashOf(query.state));
  if (pending === undefined) throw stateError("is not one this server issued");
  if (pending.used_at !== null) throw stateError("was already used; start the connection again");
  if (pending.expires_at.getTime() <= Date.now()) throw stateError("has expired; start the connection again");
  if (query.error !== undefined) {
    await useOAuthAuthorization(deps.db, pending.id);
    const detail = query.error_description === undefined ? "" : ` (${query.error_description.slice(0, 300)})`;
    throw new BadRequestError(`The provider did not authorize the connection: ${query.error}${detail}.`, [
      { param: "error", msg: `the provider answered ${query.error}` },
    ]);
  }
  if (query.code === undefined) throw new BadRequestError("The callback carries no code.", [{ param: "code", msg: "is required" }]);
  if (!(await useOAuthAuthorization(deps.db, pending.id))) throw stateError("was already used or has expired; start the connection again");
  const { plugin, client } = callbackApp(deps, pending.integration_type);
  const grant = await exchangeCode(deps, client, pending, query.code);
  if (pending.connection_id === null) {
    const parsed = parseGrant(deps, plugin, grant.metadata, grant.secrets);
    const row = await storeNewConnection(deps, plugin, {
      workspaceId: pending.workspace_id,
      name: pending.connection_name,
      metadata: parsed.metadata,
      secrets: parsed.secrets,
      hidden: pending.hidden,
      createdBy: pending.created_by,
    });
    return { connection: toConnection(row), reauthorized: false };
  }
  return { connection: toConnection(await reauthorizeWithGrant(deps, plugin, pending, grant)), reauthorized: true };
}

function stateError(problem: string): BadRequestError {
  return new BadRequestError(`The OAuth state ${problem}.`, [{ param: "state", msg: problem }]);
}

/** The app for the callback: its settings may have changed since the start (a 400 then, the authorization ended). */
function callbackApp(deps: OAuthDeps, type: string): { plugin: DestinationPlugin; client: OAuthClient } {
  try {
    return oauthAppOf(deps, type, "state");
  } catch (error) {
    if (error instanceof UnprocessableEntityError) throw new BadRequestError(error.message, error.data);
    throw error;
  }
}

type Grant = { readonly metadata: Readonly<Record<string, unknown>>; readonly secrets: Readonly<Record<string, unknown>> };

async function exchangeCode(deps: OAuthDeps, client: OAuthClient, pending: OAuthAuthorizationRow, code: string): Promise<Grant> {
  const codeVerifier = deps.secretBox.open(pending.verifier_ciphertext, verifierContext(pending.id));
  const answer = await requestTokens(
    client,
    { grantType: "authorization_code", code, redirectUri: pending.redirect_uri, codeVerifier },
    providerContext(deps),
    { timeoutMs: deps.exchangeTimeoutMs },
  );
  if (!answer.ok) throw new BadGatewayError(`The provider did not exchange the code: ${answer.message}.`);
  return { metadata: answer.metadata, secrets: answer.secrets };
}

/** The grant through the plugin's `parseConfig`, as any connection's config; a grant it refuses is the provider's fault (502). */
function parseGrant(
  deps: OAuthDeps,
  plugin: DestinationPlugin,
  metadata: unknown,
  secrets: unknown,
): { metadata: unknown; secrets: unknown } {
  const parsed = plugin.parseConfig({ metadata, secrets, fromGrant: true }, deps.addressPolicy);
  if (!parsed.ok) {
    throw new BadGatewayError(`The provider's grant does not make a valid ${plugin.type} connection.`, parsed.errors);
  }
  return parsed;
}

/** New tokens for the connection, what the grant tells merged into its metadata, and the connection active again. */
async function reauthorizeWithGrant(
  deps: OAuthDeps,
  plugin: DestinationPlugin,
  pending: OAuthAuthorizationRow,
  grant: Grant,
): Promise<ConnectionRow> {
  try {
    return await changeLocked(deps.db, pending.organization_id, pending.connection_id ?? "", async (trx, row) => {
      const metadata = typeof row.metadata === "object" && row.metadata !== null ? { ...row.metadata, ...grant.metadata } : grant.metadata;
      const parsed = parseGrant(deps, plugin, metadata, grant.secrets);
      return updateConnection(trx, row.id, {
        name: row.name,
        metadata: parsed.metadata,
        secrets_ciphertext: sealSecrets(deps.secretBox, row.id, parsed.secrets),
        active: true,
        inactive_reason: null,
        inactive_reason_code: null,
        hidden: row.hidden,
        clearFailureStreak: true,
      });
    });
  } catch (error) {
    if (error instanceof NotFoundError)
      throw new BadRequestError("The connection being re-authorized was deleted.", [{ param: "state", msg: "names a deleted connection" }]);
    throw error;
  }
}
