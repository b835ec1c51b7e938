import { createHash } from "node:crypto";
import { type Client, completeOAuthConnection, type OAuthConnectionCompleted, startOAuthConnection } from "@switchyard/client";
import {
  accessTokenOf,
  apiBase,
  callProvider,
  type DestinationPlugin,
  destinations,
  failedBeforeSending,
  guardAttempt,
  type ProviderSettings,
} from "@switchyard/destinations";
import type { FakeOAuthServer } from "@switchyard/destinations/fakes";
import { type Receiver, startReceiver } from "@switchyard/destinations/fakes";
import { bearer, type Tenant } from "./fixtures.js";

/**
 * A small OAuth integration for tests of the OAuth flow and token refresh, registered under a Meshes type id that no
 * plugin of this server uses (`zoom`): its one action posts the event to `<api>/v1/messages` with the access token.
 * A second type (`pipedrive`) is registered without operator settings, to test an unconfigured OAuth app.
 */
export const oauthTestType = "zoom";
export const unconfiguredOAuthType = "pipedrive";

function testPlugin(type: string): DestinationPlugin {
  return {
    type,
    description: {
      type,
      name: `Test ${type}`,
      description: "A test OAuth integration.",
      authentication: { type: "oauth", oauth: { version: 2 } },
      actions: [{ key: "send_message", label: "Send message", noun: "Message", description: "Posts the event." }],
      fields: [],
      metadata_schema: { type: "object", properties: { account_id: { type: "string" } } },
      secrets_schema: { type: "object", required: ["access_token"], properties: { access_token: { type: "string" } } },
      secret_fields: ["secrets.access_token", "secrets.refresh_token"],
    },
    parseConfig({ metadata, secrets, previous }) {
      const tokens = secrets ?? previous?.secrets;
      if (accessTokenOf(tokens) === undefined) return { ok: false, errors: [{ param: "secrets.access_token", msg: "is required" }] };
      if (typeof metadata !== "object" || metadata === null)
        return { ok: false, errors: [{ param: "metadata", msg: "must be an object" }] };
      const accountId = (metadata as Record<string, unknown>).account_id;
      return { ok: true, metadata: typeof accountId === "string" ? { account_id: accountId } : {}, secrets: tokens };
    },
    deliver: (request, context) =>
      guardAttempt(async () => {
        const token = accessTokenOf(request.connection.secrets);
        if (token === undefined) return failedBeforeSending("internal", "no access token");
        const url = `${apiBase(context.providers, type, `https://api.${type}.example`)}/v1/messages`;
        const headers = { Authorization: `Bearer ${token}` };
        const json = { event: request.event.event, id: request.event.id };
        return (await callProvider({ method: "POST", url, headers, json, timeoutMs: request.timeoutMs }, context, request.now)).facts;
      }),
    oauth: {
      authorizeUrl: `https://${type}.example/oauth/authorize`,
      tokenUrl: `https://${type}.example/oauth/token`,
      scopes: ["messages:write", "users:read"],
      clientAuth: "client_secret_basic",
      authorizeParams: { prompt: "consent" },
      readGrant: (token) => ({
        ...(typeof token.account_id === "string" ? { metadata: { account_id: token.account_id } } : {}),
        ...(typeof token.api_host === "string" ? { secrets: { api_host: token.api_host } } : {}),
      }),
    },
  };
}

/** Adds the test integrations to this process's registry (the server and worker of a test file run in it). */
export function registerOAuthTestPlugins(): void {
  const registry = destinations as Map<string, DestinationPlugin>;
  registry.set(oauthTestType, testPlugin(oauthTestType));
  registry.set(unconfiguredOAuthType, testPlugin(unconfiguredOAuthType));
}

/** The operator's settings of the test integration: its OAuth app on the fake, and its API on `apiUrl`. */
export function oauthTestSettings(fake: FakeOAuthServer, apiUrl?: string): ReadonlyMap<string, ProviderSettings> {
  return new Map([
    [
      oauthTestType,
      {
        clientId: fake.clientId,
        clientSecret: fake.clientSecret,
        authorizeUrl: fake.authorizeUrl,
        tokenUrl: fake.tokenUrl,
        ...(apiUrl === undefined ? {} : { apiUrl }),
      },
    ],
  ]);
}

/** The test integration's API: 200 for a live access token of `fake`, 401 otherwise; the tokens it was sent, in order. */
export async function startTestProviderApi(fake: FakeOAuthServer): Promise<Receiver & { readonly tokens: () => string[] }> {
  const api = await startReceiver((req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (req.method === "POST" && req.url === "/v1/messages" && fake.isLiveAccessToken(token)) {
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
    } else {
      res.writeHead(401, { "Content-Type": "application/json" }).end('{"error":"invalid_token"}');
    }
  });
  return { ...api, tokens: () => api.requests.map((r) => /^Bearer (.+)$/.exec(r.headers.authorization ?? "")?.[1] ?? "") };
}

/** A short fingerprint of a token, for failure messages that must not print it. */
export const fingerprint = (token: string) => createHash("sha256").update(token).digest("hex").slice(0, 8);

/** The whole flow as a user goes through it: start through the API, consent at the fake, the callback; answers the connection made. */
export async function connectThroughOAuth(
  client: Client,
  tenant: Tenant,
  fake: FakeOAuthServer,
  name = "Test OAuth connection",
): Promise<OAuthConnectionCompleted> {
  const started = await startOAuthConnection({
    client,
    headers: await bearer(tenant.machine),
    body: { workspace: tenant.workspaceId, type: oauthTestType, name },
  });
  if (started.data === undefined) throw new Error(`start: ${started.response?.status} ${JSON.stringify(started.error)}`);
  return completeCallback(client, await fake.authorize(started.data.authorize_url));
}

/** Follows the provider's redirect to the callback (asking for JSON); the completed connection, or throws. */
export async function completeCallback(client: Client, location: string): Promise<OAuthConnectionCompleted> {
  const answer = await completeOAuthConnection({ client, query: callbackQuery(location), headers: { Accept: "application/json" } });
  if (answer.data === undefined) throw new Error(`callback: ${answer.response?.status} ${JSON.stringify(answer.error)}`);
  return answer.data;
}

/** The query of the callback URL the provider redirected to, as the generated client takes it. */
export function callbackQuery(location: string): { state: string; code?: string; error?: string; error_description?: string } {
  const params = new URL(location).searchParams;
  const optional = (name: string) => (params.has(name) ? { [name]: params.get(name) ?? "" } : {});
  return { state: params.get("state") ?? "", ...optional("code"), ...optional("error"), ...optional("error_description") };
}
