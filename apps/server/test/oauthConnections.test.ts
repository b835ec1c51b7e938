import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { completeOAuthConnection, getConnection, listConnections, reauthorizeConnection, startOAuthConnection } from "@switchyard/client";
import { type FakeOAuthServer, startOAuthServer } from "@switchyard/destinations/fakes";
import { secretContext } from "@switchyard/secret-box";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import {
  callbackQuery,
  completeCallback,
  connectThroughOAuth,
  oauthTestSettings,
  oauthTestType,
  registerOAuthTestPlugins,
  unconfiguredOAuthType,
} from "./support/oauthTestPlugin.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

// OAuth connections end to end: the real server through the generated client, a real database, and a fake
// authorization server (`startOAuthServer`) in the provider's place; the integration is a test plugin.

let server: TestServer;
let tenant: Tenant;
let stranger: Tenant;
let fake: FakeOAuthServer;
let databaseUrl: string;

registerOAuthTestPlugins();

useTestServer({ server: false }, async (file) => {
  fake = await startOAuthServer({
    clientAuth: "client_secret_basic",
    extraTokenFields: { account_id: "acct_42", api_host: "api-eu.test" },
  });
  file.closers.push(fake.close);
  server = await file.startServer({ providers: oauthTestSettings(fake) });
  tenant = await createTenant(server.db, server.secretBox, "OAuth");
  stranger = await createTenant(server.db, server.secretBox, "Stranger");
  databaseUrl = file.databaseUrl;
});

const auth = () => bearer(tenant.machine);

async function start(name = "Zoom account", owner: Tenant = tenant) {
  const answer = await startOAuthConnection({
    client: server.client,
    headers: await bearer(owner.machine),
    body: { workspace: owner.workspaceId, type: oauthTestType, name },
  });
  if (answer.data === undefined) throw new Error(`start: ${answer.response?.status} ${JSON.stringify(answer.error)}`);
  return answer.data;
}

async function callback(query: Record<string, string>, accept = "application/json") {
  return completeOAuthConnection({ client: server.client, query: query as never, headers: { Accept: accept } });
}

async function storedSecrets(id: string): Promise<{ ciphertext: string; secrets: Record<string, string> }> {
  const row = await server.db.selectFrom("connections").select("secrets_ciphertext").where("id", "=", id).executeTakeFirstOrThrow();
  return {
    ciphertext: row.secrets_ciphertext,
    secrets: JSON.parse(server.secretBox.open(row.secrets_ciphertext, secretContext.connection(id))) as Record<string, string>,
  };
}

async function connectionCount(): Promise<number> {
  const { data } = await listConnections({ client: server.client, headers: await auth(), query: { limit: 200 } });
  return data?.count ?? -1;
}

async function pendingCount(): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from oauth_authorizations`.execute(server.db);
  return rows[0]?.n ?? -1;
}

describe("starting an OAuth connection", () => {
  it("when a connection is started, then the authorize URL carries the client, redirect URI, scopes, state and an S256 challenge", async () => {
    const started = await start();
    const url = new URL(started.authorize_url);
    expect(`${url.origin}${url.pathname}`).toBe(fake.authorizeUrl);
    expect(started.redirect_uri).toBe(`${server.baseUrl}/api/v1/oauth/callback`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code",
      client_id: fake.clientId,
      redirect_uri: started.redirect_uri,
      scope: "messages:write users:read",
      code_challenge_method: "S256",
      prompt: "consent",
    });
    expect(url.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const expiresIn = Date.parse(started.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(9 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000);
    // Stored: the state only hashed, the verifier sealed.
    const state = url.searchParams.get("state") ?? "";
    const { rows } = await sql<{ state_hash: Buffer; verifier_ciphertext: string }>`
      select state_hash, verifier_ciphertext from oauth_authorizations order by created_at desc limit 1`.execute(server.db);
    expect(rows[0]?.state_hash.toString("hex")).not.toContain(Buffer.from(state).toString("hex"));
    expect(rows[0]?.verifier_ciphertext).toMatch(/^v2\./);
  });

  it("when the caller has no machine token, then it is answered 401 and nothing is stored", async () => {
    const before = await pendingCount();
    const answer = await startOAuthConnection({
      client: server.client,
      body: { workspace: tenant.workspaceId, type: oauthTestType, name: "x" },
    });
    expect(answer.response?.status).toBe(401);
    expect(answer.error).toMatchObject({ message: "Unauthorized", error: { name: "Unauthorized" } });
    expect(await pendingCount()).toBe(before);
  });

  it("when the type does not use OAuth, or its OAuth app is not configured, then it is answered 422 naming why", async () => {
    const notOAuth = await startOAuthConnection({
      client: server.client,
      headers: await auth(),
      body: { workspace: tenant.workspaceId, type: "webhook", name: "x" },
    });
    expect(notOAuth.response?.status).toBe(422);
    expect(notOAuth.error).toMatchObject({
      error: { name: "UnprocessableEntity", data: [{ param: "type", msg: "webhook is not an OAuth integration" }] },
    });
    const unconfigured = await startOAuthConnection({
      client: server.client,
      headers: await auth(),
      body: { workspace: tenant.workspaceId, type: unconfiguredOAuthType, name: "x" },
    });
    expect(unconfigured.response?.status).toBe(422);
    expect(JSON.stringify(unconfigured.error)).toContain(
      "SWITCHYARD_PIPEDRIVE_CLIENT_ID and SWITCHYARD_PIPEDRIVE_CLIENT_SECRET must be set",
    );
  });

  it("when the workspace is another organization's, then it is answered 404", async () => {
    const answer = await startOAuthConnection({
      client: server.client,
      headers: await auth(),
      body: { workspace: stranger.workspaceId, type: oauthTestType, name: "x" },
    });
    expect(answer.response?.status).toBe(404);
  });
});

describe("the OAuth callback", () => {
  it("when the user consents, then the connection is created with its tokens sealed, and no answer shows them", async () => {
    const started = await start("Zoom <main> account");
    const location = await fake.authorize(started.authorize_url);
    expect(location.startsWith(`${server.baseUrl}/api/v1/oauth/callback?`)).toBe(true);
    const completed = await completeCallback(server.client, location);
    expect(completed.reauthorized).toBe(false);
    expect(completed.connection).toMatchObject({
      type: oauthTestType,
      workspace: tenant.workspaceId,
      name: "Zoom <main> account",
      metadata: { account_id: "acct_42" },
      active: true,
      created_by: tenant.machine.accessKey,
    });

    // The code went to the token endpoint with the verifier, the redirect URI and HTTP Basic client credentials.
    const exchange = fake.tokenRequests.at(-1);
    expect(exchange?.get("grant_type")).toBe("authorization_code");
    expect(exchange?.get("redirect_uri")).toBe(started.redirect_uri);
    expect(exchange?.get("code_verifier")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(exchange?.has("client_secret")).toBe(false);
    const tokenRequest = fake.requests.filter((r) => r.path === "/oauth/token").at(-1);
    expect(tokenRequest?.headers.authorization).toBe(`Basic ${Buffer.from(`${fake.clientId}:${fake.clientSecret}`).toString("base64")}`);

    const { ciphertext, secrets } = await storedSecrets(completed.connection.id);
    expect(fake.isLiveAccessToken(secrets.access_token)).toBe(true);
    expect(secrets).toMatchObject({ token_type: "bearer", scope: "read write", api_host: "api-eu.test" });
    expect(secrets.refresh_token).toMatch(/^rt_/);
    expect(Math.abs(Date.parse(secrets.expires_at ?? "") - (Date.now() + 3_600_000))).toBeLessThan(60_000);
    expect(ciphertext).not.toContain(secrets.access_token);
    expect(ciphertext).not.toContain(secrets.refresh_token);

    const read = await getConnection({ client: server.client, headers: await auth(), path: { id: completed.connection.id } });
    const listed = await listConnections({ client: server.client, headers: await auth() });
    for (const answer of [JSON.stringify(completed), JSON.stringify(read.data), JSON.stringify(listed.data)]) {
      expect(answer).not.toContain(secrets.access_token);
      expect(answer).not.toContain(secrets.refresh_token);
    }
  });

  it("when a browser lands on the callback, then it gets a page naming the connection, its name escaped", async () => {
    const started = await start("Sales <script>alert(1)</script>");
    const location = await fake.authorize(started.authorize_url);
    const page = await fetch(location, { headers: { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain("Sales &#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).not.toContain("<script>");
  });

  it("when the same callback comes twice, then the second is a 400 and nothing more is created", async () => {
    const started = await start("Twice");
    const location = await fake.authorize(started.authorize_url);
    await completeCallback(server.client, location);
    const count = await connectionCount();
    const again = await callback(callbackQuery(location));
    expect(again.response?.status).toBe(400);
    expect(again.error).toMatchObject({ message: "Bad Request", error: { name: "BadRequest", data: [{ param: "state" }] } });
    expect(JSON.stringify(again.error)).toContain("already used");
    expect(await connectionCount()).toBe(count);
  });

  it("when the state is unknown, missing or expired, then it is a 400 and nothing changes", async () => {
    const count = await connectionCount();
    const unknown = await callback({ state: "not-a-state-we-issued", code: "whatever" });
    expect(unknown.response?.status).toBe(400);
    expect(JSON.stringify(unknown.error)).toContain("is not one this server issued");

    const missing = await fetch(`${server.baseUrl}/api/v1/oauth/callback?code=abc`, { headers: { Accept: "application/json" } });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { name: "BadRequest", data: [{ param: "state" }] } });

    const started = await start("Expired");
    const location = await fake.authorize(started.authorize_url);
    await sql`update oauth_authorizations set expires_at = now() - interval '1 second' where used_at is null`.execute(server.db);
    const expired = await callback(callbackQuery(location));
    expect(expired.response?.status).toBe(400);
    expect(JSON.stringify(expired.error)).toContain("has expired");
    expect(await connectionCount()).toBe(count);
  });

  it("when the callback has no code, then it is a 400 and the state stays usable", async () => {
    const started = await start("No code yet");
    const location = await fake.authorize(started.authorize_url);
    const { code: _code, ...withoutCode } = callbackQuery(location);
    const answer = await callback(withoutCode);
    expect(answer.response?.status).toBe(400);
    expect(answer.error).toMatchObject({ error: { data: [{ param: "code", msg: "is required" }] } });
    expect((await completeCallback(server.client, location)).connection.name).toBe("No code yet");
  });

  it("when the user denies access, then the provider's error is answered 400 and the authorization ends", async () => {
    const count = await connectionCount();
    const started = await start("Denied");
    fake.denyNext();
    const location = await fake.authorize(started.authorize_url);
    const denied = await callback(callbackQuery(location));
    expect(denied.response?.status).toBe(400);
    expect(denied.error).toMatchObject({
      error: {
        name: "BadRequest",
        message: "The provider did not authorize the connection: access_denied (The user denied the request.).",
        data: [{ param: "error", msg: "the provider answered access_denied" }],
      },
    });
    expect(JSON.stringify((await callback(callbackQuery(location))).error)).toContain("already used");
    expect(await connectionCount()).toBe(count);
  });

  it("when the provider refuses the code, then it is answered 502 naming the provider's error, and nothing is created", async () => {
    const count = await connectionCount();
    const started = await start("Refused");
    const location = await fake.authorize(started.authorize_url);
    fake.failNext("invalid_grant");
    const answer = await callback(callbackQuery(location));
    expect(answer.response?.status).toBe(502);
    expect(answer.error).toMatchObject({ error: { name: "BadGateway" } });
    expect(JSON.stringify(answer.error)).toContain("invalid_grant");
    expect(await connectionCount()).toBe(count);
  });

  it("when a provider adds parameters of its own to the redirect, then they are ignored", async () => {
    const started = await start("Extra params");
    const location = new URL(await fake.authorize(started.authorize_url));
    location.searchParams.set("guild_id", "123");
    location.searchParams.set("permissions", "2048");
    const answer = await fetch(location, { headers: { Accept: "application/json" } });
    expect(answer.status).toBe(200);
  });
});

describe("re-authorizing an OAuth connection", () => {
  it("when an inactive connection is re-authorized, then it keeps its id, gets new tokens and is active again", async () => {
    const { connection } = await connectThroughOAuth(server.client, tenant, fake, "To re-authorize");
    const before = await storedSecrets(connection.id);
    await sql`update connections set active = false, inactive_reason = 'refresh refused',
      inactive_reason_code = 'oauth_reauthorization_required' where id = ${connection.id}`.execute(server.db);
    const started = await reauthorizeConnection({ client: server.client, headers: await auth(), path: { id: connection.id } });
    expect(started.response?.status).toBe(201);
    const completed = await completeCallback(server.client, await fake.authorize(started.data?.authorize_url ?? ""));
    expect(completed).toMatchObject({ reauthorized: true, connection: { id: connection.id, name: "To re-authorize", active: true } });
    expect(completed.connection).not.toHaveProperty("inactive_reason");
    const after = await storedSecrets(connection.id);
    expect(after.secrets.access_token).not.toBe(before.secrets.access_token);
    expect(fake.isLiveAccessToken(after.secrets.access_token)).toBe(true);
  });

  it("when the connection is not OAuth or not the caller's, then re-authorizing it is refused", async () => {
    const { connection } = await connectThroughOAuth(server.client, tenant, fake, "Not yours");
    const foreign = await reauthorizeConnection({
      client: server.client,
      headers: await bearer(stranger.machine),
      path: { id: connection.id },
    });
    expect(foreign.response?.status).toBe(404);
    const unauthenticated = await reauthorizeConnection({ client: server.client, path: { id: connection.id } });
    expect(unauthenticated.response?.status).toBe(401);
  });
});

describe("the CLI", () => {
  const serverDir = fileURLToPath(new URL("..", import.meta.url));
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "switchyard-oauth-cli-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("when `connection oauth` names a type that is not OAuth, then it fails saying so; without --type, it shows usage", async () => {
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ["dist/cli.js", ...args], {
        cwd: serverDir,
        env: { ...process.env, DATABASE_URL: databaseUrl, SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_BOOTSTRAP: "false" },
      }).then(
        (done) => ({ code: 0, ...done }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
    const webhook = await run("connection", "oauth", "--workspace", tenant.workspaceId, "--type", "webhook", "--name", "x");
    expect(webhook.code).toBe(1);
    expect(webhook.stderr).toContain("webhook connections do not use OAuth");
    const usage = await run("connection", "oauth", "--workspace", tenant.workspaceId, "--name", "x");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--type is required");
  });
});
