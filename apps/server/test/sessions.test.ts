import { createHash } from "node:crypto";
import {
  type CreatedSession,
  cancelDelivery,
  createEvent,
  createSession,
  createWorkspace,
  getEvent,
  getEventPayload,
  getWorkspace,
  launchSession,
  listDeliveryAttempts,
  listIntegrations,
  listSessions,
  listWorkspaceConnections,
  listWorkspaceEvents,
  listWorkspaceRules,
  refreshSession,
  retryDelivery,
  revokeSession,
  type SessionInput,
} from "@switchyard/client";
import { createWebhookRoute } from "@switchyard/testing";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import { routeQueuedEvents } from "./support/routing.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

let server: TestServer;
let tenant: Tenant;
let stranger: Tenant;
/** A route for `ping` in the tenant's workspace: the events below get one delivery each (left pending: no worker runs). */
let ruleId: string;

const file = useTestServer({ tenant: "Acme" }, async (file) => {
  ({ server, tenant } = file);
  stranger = await createTenant(server.db, server.secretBox, "Stranger");
  ({ ruleId } = await createWebhookRoute(server.client, tenant, "ping", "https://example.com/hook"));
});

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest();
const asSession = (token: string, more: Record<string, string> = {}) => ({ Authorization: `Bearer ${token}`, ...more });

/** Mints a session in the tenant's workspace (unless `input` names another) and expects 201. */
async function mint(input: Partial<SessionInput> = {}, owner: Tenant = tenant): Promise<CreatedSession> {
  const { data, response, error } = await createSession({
    client: server.client,
    headers: await bearer(owner.machine),
    body: { workspace_id: owner.workspaceId, ...input },
  });
  expect(response?.status, JSON.stringify(error)).toBe(201);
  return data as CreatedSession;
}

/** An event of the tenant's workspace, routed (its delivery through `ruleId` exists, pending). */
async function emit(resource?: { resource: string; resource_id: string }): Promise<string> {
  const { data, response } = await createEvent({
    client: server.client,
    headers: await bearer(tenant.machine),
    body: { event: "ping", payload: { email: "a@example.com" }, workspace: tenant.workspaceId, ...resource },
  });
  expect(response?.status).toBe(201);
  await routeQueuedEvents(server.db, server.pool);
  return data?.event.id ?? "";
}

/** Moves a column of a session row (time travel for expiries: every check compares with the database's now()). */
async function setSessionTime(sessionId: string, column: "expires_at" | "launch_expires_at", secondsFromNow: number): Promise<void> {
  await sql`update embed_sessions set ${sql.ref(column)} = now() + make_interval(secs => ${secondsFromNow}) where id = ${sessionId}`.execute(
    server.db,
  );
}

async function failDelivery(eventId: string): Promise<void> {
  await sql`update rule_events set status = 'failed', attempt_count = 1, completed_at = now()
    where event_id = ${eventId} and rule_id = ${ruleId}`.execute(server.db);
}

describe("POST /api/v1/sessions", () => {
  it("when only the workspace is given, then Meshes' defaults apply and the tokens are shown once, stored as hashes", async () => {
    const before = Date.now();
    const session = await mint();
    expect(session).toMatchObject({
      workspace_id: tenant.workspaceId,
      role: "member",
      session_type: "workspace",
      expires_in: 1800,
      launch_page: "dashboard",
      scopes: [],
      allowed_origins: [],
    });
    expect(session).not.toHaveProperty("resource");
    expect(session).not.toHaveProperty("resource_id");
    expect(session).not.toHaveProperty("external_user_id");
    expect(session.access_token).toMatch(/^sy_sess_[A-Za-z0-9_-]{43}$/);
    expect(session.launch_token).toMatch(/^sy_launch_[A-Za-z0-9_-]{43}$/);
    expect(session.launch_url).toBe(`${server.baseUrl}/dashboard/launch#${session.launch_token}`);
    const expiresIn = Date.parse(session.expires_at) - before;
    expect(expiresIn).toBeGreaterThan(1795_000);
    expect(expiresIn).toBeLessThan(1805_000);
    const launchIn = Date.parse(session.launch_expires_at) - before;
    expect(launchIn).toBeGreaterThan(25_000);
    expect(launchIn).toBeLessThan(35_000);

    const { rows } = await sql<{ stored: string }>`
      select row_to_json(s)::text || coalesce((select string_agg(row_to_json(t)::text, '') from embed_session_tokens t where t.session_id = s.id), '') as stored
      from embed_sessions s where s.id = ${session.session_id}`.execute(server.db);
    const stored = rows[0]?.stored ?? "";
    expect(stored).not.toContain(session.access_token.slice(8));
    expect(stored).not.toContain(session.launch_token.slice(10));
    const { rows: hashes } = await sql<{ n: number }>`
      select count(*)::int as n from embed_session_tokens where token_hash = ${sha256(session.access_token)}`.execute(server.db);
    expect(hashes[0]?.n).toBe(1);
  });

  it("when every field is given, then the answer echoes them, origins normalised and scopes without repeats", async () => {
    const session = await mint({
      role: "admin",
      session_type: "resource",
      resource: "user",
      resource_id: "u-1",
      external_user_id: "app-user-7",
      ttl_seconds: 300,
      launch_ttl_seconds: 15,
      launch_page: "events",
      allowed_origins: ["HTTPS://App.Example.com:443/", "http://localhost:5173", "https://app.example.com"],
      scopes: ["events.payload:read", "dashboard", "connections", "rules", "events", "events"],
    });
    expect(session).toMatchObject({
      role: "admin",
      session_type: "resource",
      resource: "user",
      resource_id: "u-1",
      external_user_id: "app-user-7",
      expires_in: 300,
      launch_page: "events",
      allowed_origins: ["https://app.example.com", "http://localhost:5173"],
      scopes: ["events.payload:read", "dashboard", "connections", "rules", "events"],
    });
  });

  it("when the server has a public URL, then launch URLs start with it", async () => {
    const other = await file.startServer({ configuredPublicUrl: "https://switchyard.example.com/base" });
    // Its own tenant: each test server seals secrets with a key of its own.
    const local = await createTenant(other.db, other.secretBox, "Public");
    const { data, response, error } = await createSession({
      client: other.client,
      headers: await bearer(local.machine),
      body: { workspace_id: local.workspaceId },
    });
    expect(response?.status, JSON.stringify(error)).toBe(201);
    expect(data?.launch_url).toBe(`https://switchyard.example.com/base/dashboard/launch#${data?.launch_token}`);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["ttl below 300 s", { ttl_seconds: 299 }, "ttl_seconds"],
    ["ttl above 3600 s", { ttl_seconds: 3601 }, "ttl_seconds"],
    ["a fractional ttl", { ttl_seconds: 1000.5 }, "ttl_seconds"],
    ["launch ttl below 15 s", { launch_ttl_seconds: 14 }, "launch_ttl_seconds"],
    ["launch ttl above 60 s", { launch_ttl_seconds: 61 }, "launch_ttl_seconds"],
    ["an unknown role", { role: "root" }, "role"],
    ["an unknown session type", { session_type: "global" }, "session_type"],
    ["an unknown launch page", { launch_page: "home" }, "launch_page"],
    ["an unknown scope", { scopes: ["events.write"] }, "scopes.0"],
    ["eleven origins", { allowed_origins: Array.from({ length: 11 }, (_, i) => `https://a${i}.example.com`) }, "allowed_origins"],
    ["an origin with a path", { allowed_origins: ["https://app.example.com/embed"] }, "allowed_origins.0"],
    ["a wildcard origin", { allowed_origins: ["https://ok.example.com", "https://*.example.com"] }, "allowed_origins.1"],
    ["an origin with a query", { allowed_origins: ["https://app.example.com?x=1"] }, "allowed_origins.0"],
    ["an origin with credentials", { allowed_origins: ["https://user:pw@app.example.com"] }, "allowed_origins.0"],
    ["an origin of another scheme", { allowed_origins: ["ftp://app.example.com"] }, "allowed_origins.0"],
    ["an origin that is no URL", { allowed_origins: ["app.example.com"] }, "allowed_origins.0"],
    ["a workspace id that is no UUID", { workspace_id: "ws-1" }, "workspace_id"],
    ["an external user id over 255 characters", { external_user_id: "x".repeat(256) }, "external_user_id"],
    ["a resource session without its resource", { session_type: "resource", resource_id: "1" }, "resource"],
    ["a resource session without its resource id", { session_type: "resource", resource: "user" }, "resource_id"],
    ["a workspace session bound to a resource", { resource: "user", resource_id: "1" }, "resource"],
    ["a field Meshes does not have", { permissions: ["all"] }, "permissions"],
  ])("when the input has %s, then it answers 400 naming the field and stores nothing", async (_case, input, param) => {
    const count = async () => (await sql<{ n: number }>`select count(*)::int as n from embed_sessions`.execute(server.db)).rows[0]?.n ?? 0;
    const before = await count();
    const { error, response } = await createSession({
      client: server.client,
      headers: await bearer(tenant.machine),
      body: { workspace_id: tenant.workspaceId, ...input } as SessionInput,
    });
    expect(response?.status).toBe(400);
    expect(error).toMatchObject({ message: "Bad Request", error: { data: expect.arrayContaining([expect.objectContaining({ param })]) } });
    expect(await count()).toBe(before);
  });

  it("when the workspace is another organization's or unknown, then it answers 404", async () => {
    for (const workspace_id of [stranger.workspaceId, "0192f0c5-0000-7000-8000-00000000abcd"]) {
      const { error, response } = await createSession({
        client: server.client,
        headers: await bearer(tenant.machine),
        body: { workspace_id },
      });
      expect(response?.status).toBe(404);
      expect(error).toMatchObject({ error: { name: "NotFound" } });
    }
  });
});

describe("GET /api/v1/sessions", () => {
  let owner: Tenant;
  let made: CreatedSession[];

  beforeAll(async () => {
    owner = await createTenant(server.db, server.secretBox, "Lister");
    made = [];
    made.push(await mint({}, owner));
    made.push(await mint({ session_type: "resource", resource: "user", resource_id: "1", external_user_id: "u1" }, owner));
    made.push(await mint({ session_type: "resource", resource: "user", resource_id: "2" }, owner));
    made.push(await mint({ role: "admin" }, owner));
    made.push(await mint({ session_type: "dashboard" }, owner));
    await revokeSession({ client: server.client, headers: await bearer(owner.machine), path: { id: made[3]?.session_id ?? "" } });
    await setSessionTime(made[0]?.session_id ?? "", "expires_at", -5);
  });

  const list = async (query: Record<string, string | number | undefined>) =>
    listSessions({ client: server.client, headers: await bearer(owner.machine), query: { workspace_id: owner.workspaceId, ...query } });

  it("when listed with a small limit, then the cursor walks every session once, newest first", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const { data, response } = await list({ limit: 2, cursor });
      expect(response?.status).toBe(200);
      expect(data?.count).toBe(data?.records.length);
      seen.push(...(data?.records ?? []).map((r) => r.session_id));
      cursor = data?.next_cursor ?? undefined;
      if (cursor !== undefined) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor !== undefined);
    expect(seen).toEqual(made.map((s) => s.session_id).reverse());
  });

  it("when a session expired or was revoked, then its record says so; the rest are active and unexpired", async () => {
    const { data } = await list({});
    const byId = new Map((data?.records ?? []).map((r) => [r.session_id, r]));
    expect(byId.get(made[0]?.session_id ?? "")).toMatchObject({ status: "active", is_expired: true });
    expect(byId.get(made[3]?.session_id ?? "")).toMatchObject({ status: "revoked", is_expired: false, revoked_at: expect.any(String) });
    expect(byId.get(made[1]?.session_id ?? "")).toMatchObject({
      status: "active",
      is_expired: false,
      session_type: "resource",
      resource: "user",
      resource_id: "1",
      external_user_id: "u1",
      created_by: owner.machine.accessKey,
    });
    expect(byId.get(made[0]?.session_id ?? "")).not.toHaveProperty("resource");
  });

  it.each<[string, Record<string, string>, number[]]>([
    ["status active", { status: "active" }, [4, 2, 1, 0]],
    ["status revoked", { status: "revoked" }, [3]],
    ["a resource", { resource: "user" }, [2, 1]],
    ["a resource and id", { resource: "user", resource_id: "2" }, [2]],
  ])("when filtered by %s, then only those sessions are listed", async (_case, query, indexes) => {
    const { data } = await list(query);
    expect(data?.records.map((r) => r.session_id)).toEqual(indexes.map((i) => made[i]?.session_id));
  });

  it("when the workspace is missing, another organization's, or the cursor is foreign, then 400, 404, 400", async () => {
    const headers = await bearer(owner.machine);
    const missing = await listSessions({ client: server.client, headers, query: {} as { workspace_id: string } });
    expect(missing.response?.status).toBe(400);
    expect(missing.error).toMatchObject({ error: { data: [expect.objectContaining({ param: "workspace_id" })] } });
    expect((await list({ workspace_id: tenant.workspaceId })).response?.status).toBe(404);
    expect((await list({ cursor: "bm90LWEtY3Vyc29y" })).response?.status).toBe(400);
  });
});

describe("POST /api/v1/sessions/{id}/refresh", () => {
  it("when refreshed, then a new token is answered, the session runs its TTL from now, and the old token has 60 s of grace", async () => {
    const session = await mint({ ttl_seconds: 600 });
    await setSessionTime(session.session_id, "expires_at", 30);
    const { data, response } = await refreshSession({
      client: server.client,
      headers: await bearer(tenant.machine),
      path: { id: session.session_id },
    });
    expect(response?.status).toBe(200);
    expect(data).toMatchObject({ session_id: session.session_id, expires_in: 600, role: "member", session_type: "workspace" });
    expect(data?.access_token).not.toBe(session.access_token);
    expect(Date.parse(data?.expires_at ?? "") - Date.now()).toBeGreaterThan(590_000);

    const workspace = (token: string) =>
      getWorkspace({ client: server.client, headers: asSession(token), path: { id: tenant.workspaceId } });
    expect((await workspace(data?.access_token ?? "")).response?.status).toBe(200);
    expect((await workspace(session.access_token)).response?.status).toBe(200);
    const { rows } = await sql<{ grace: number }>`
      select extract(epoch from expires_at - now())::float as grace from embed_session_tokens
      where token_hash = ${sha256(session.access_token)}`.execute(server.db);
    expect(rows[0]?.grace).toBeGreaterThan(55);
    expect(rows[0]?.grace).toBeLessThanOrEqual(60);
    await sql`update embed_session_tokens set expires_at = now() - interval '1 second'
      where token_hash = ${sha256(session.access_token)}`.execute(server.db);
    expect((await workspace(session.access_token)).response?.status).toBe(401);
    expect((await workspace(data?.access_token ?? "")).response?.status).toBe(200);
  });

  it("when the session expired, then a refresh brings it back with a working token", async () => {
    const session = await mint();
    await setSessionTime(session.session_id, "expires_at", -1);
    const { data, response } = await refreshSession({
      client: server.client,
      headers: await bearer(tenant.machine),
      path: { id: session.session_id },
    });
    expect(response?.status).toBe(200);
    const read = await getWorkspace({
      client: server.client,
      headers: asSession(data?.access_token ?? ""),
      path: { id: tenant.workspaceId },
    });
    expect(read.response?.status).toBe(200);
  });

  it("when the session is revoked, then 409; unknown, another organization's or not a UUID, then 404", async () => {
    const session = await mint();
    const headers = await bearer(tenant.machine);
    await revokeSession({ client: server.client, headers, path: { id: session.session_id } });
    const revoked = await refreshSession({ client: server.client, headers, path: { id: session.session_id } });
    expect(revoked.response?.status).toBe(409);
    expect(revoked.error).toMatchObject({ error: { name: "Conflict" } });
    const theirs = await mint({}, stranger);
    for (const id of [theirs.session_id, "0192f0c5-0000-7000-8000-00000000abcd", "sess_123"]) {
      expect((await refreshSession({ client: server.client, headers, path: { id } })).response?.status).toBe(404);
    }
  });
});

describe("DELETE /api/v1/sessions/{id}", () => {
  it("when revoked, then every token and the launch token are refused, and revoking again answers the same", async () => {
    const session = await mint();
    const headers = await bearer(tenant.machine);
    const first = await revokeSession({ client: server.client, headers, path: { id: session.session_id } });
    expect(first.response?.status).toBe(200);
    expect(first.data).toEqual({ revoked: true });
    const read = await getWorkspace({ client: server.client, headers: asSession(session.access_token), path: { id: tenant.workspaceId } });
    expect(read.response?.status).toBe(401);
    expect((await launchSession({ client: server.client, headers: asSession(session.launch_token) })).response?.status).toBe(401);
    const again = await revokeSession({ client: server.client, headers, path: { id: session.session_id } });
    expect(again.response?.status).toBe(200);
    expect(again.data).toEqual({ revoked: true });
  });

  it("when the session is unknown or another organization's, then 404 and it stays usable", async () => {
    const theirs = await mint({}, stranger);
    const headers = await bearer(tenant.machine);
    for (const id of [theirs.session_id, "0192f0c5-0000-7000-8000-00000000abcd", "nope"]) {
      expect((await revokeSession({ client: server.client, headers, path: { id } })).response?.status).toBe(404);
    }
    const read = await getWorkspace({ client: server.client, headers: asSession(theirs.access_token), path: { id: stranger.workspaceId } });
    expect(read.response?.status).toBe(200);
  });
});

describe("POST /api/v1/sessions/launch", () => {
  it("when the launch token is exchanged, then a working access token is answered once; a second use is 401", async () => {
    const session = await mint({ launch_page: "rules", session_type: "resource", resource: "user", resource_id: "9" });
    const first = await launchSession({ client: server.client, headers: asSession(session.launch_token) });
    expect(first.response?.status).toBe(200);
    expect(first.data).toMatchObject({
      session_id: session.session_id,
      expires_at: session.expires_at,
      workspace_id: tenant.workspaceId,
      launch_page: "rules",
      resource: "user",
      resource_id: "9",
    });
    expect(first.data?.access_token).toMatch(/^sy_sess_/);
    expect(first.data?.access_token).not.toBe(session.access_token);
    const read = await getWorkspace({
      client: server.client,
      headers: asSession(first.data?.access_token ?? ""),
      path: { id: tenant.workspaceId },
    });
    expect(read.response?.status).toBe(200);

    const second = await launchSession({ client: server.client, headers: asSession(session.launch_token) });
    expect(second.response?.status).toBe(401);
    expect(second.error).toMatchObject({ error: { name: "Unauthorized" } });
  });

  it("when two exchanges race, then exactly one gets a token", async () => {
    const session = await mint();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => launchSession({ client: server.client, headers: asSession(session.launch_token) })),
    );
    expect(answers.map((a) => a.response?.status).sort()).toEqual([200, 401, 401, 401, 401]);
  });

  it("when the launch token expired, or the session did, then 401", async () => {
    const late = await mint({ launch_ttl_seconds: 15 });
    await setSessionTime(late.session_id, "launch_expires_at", -1);
    expect((await launchSession({ client: server.client, headers: asSession(late.launch_token) })).response?.status).toBe(401);
    const gone = await mint();
    await setSessionTime(gone.session_id, "expires_at", -1);
    expect((await launchSession({ client: server.client, headers: asSession(gone.launch_token) })).response?.status).toBe(401);
  });

  it("when another credential is sent, or a launch token elsewhere, then it is refused", async () => {
    const session = await mint();
    expect((await launchSession({ client: server.client, headers: await bearer(tenant.machine) })).response?.status).toBe(401);
    expect((await launchSession({ client: server.client })).response?.status).toBe(401);
    expect((await launchSession({ client: server.client, headers: asSession(session.access_token) })).response?.status).toBe(403);
    const elsewhere = await getWorkspace({
      client: server.client,
      headers: asSession(session.launch_token),
      path: { id: tenant.workspaceId },
    });
    expect(elsewhere.response?.status).toBe(401);
    // Unused by the attempts above.
    expect((await launchSession({ client: server.client, headers: asSession(session.launch_token) })).response?.status).toBe(200);
  });
});

describe("a session token as a credential", () => {
  let eventId: string;

  beforeAll(async () => {
    eventId = await emit();
  });

  it("when a member session reads its workspace, then every dashboard read answers 200", async () => {
    const { access_token } = await mint();
    const headers = asSession(access_token);
    const path = { id: tenant.workspaceId };
    const reads = [
      await getWorkspace({ client: server.client, headers, path }),
      await listWorkspaceConnections({ client: server.client, headers, path }),
      await listWorkspaceRules({ client: server.client, headers, path }),
      await listWorkspaceEvents({ client: server.client, headers, path }),
      await getEvent({ client: server.client, headers, path: { id: eventId } }),
      await listDeliveryAttempts({ client: server.client, headers, path: { id: eventId, ruleId } }),
      await listIntegrations({ client: server.client, headers }),
    ];
    expect(reads.map((r) => r.response?.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(reads[3]?.data).toMatchObject({ records: expect.arrayContaining([expect.objectContaining({ id: eventId })]) });
  });

  it("when the session expired or was revoked, or the token is malformed, then 401", async () => {
    const expired = await mint();
    await setSessionTime(expired.session_id, "expires_at", -1);
    const revoked = await mint();
    await revokeSession({ client: server.client, headers: await bearer(tenant.machine), path: { id: revoked.session_id } });
    for (const token of [expired.access_token, revoked.access_token, "sy_sess_short", `sy_sess_${"A".repeat(43)}`]) {
      const { error, response } = await getWorkspace({
        client: server.client,
        headers: asSession(token),
        path: { id: tenant.workspaceId },
      });
      expect(response?.status).toBe(401);
      expect(error).toMatchObject({ error: { name: "Unauthorized" } });
    }
  });

  it("when the session names another workspace (its organization's or not) or its event, then 404", async () => {
    const second = await createWorkspace({ client: server.client, headers: await bearer(tenant.machine), body: { name: "Second" } });
    const elsewhere = await mint({ workspace_id: second.data?.workspace.id ?? "" });
    const headers = asSession(elsewhere.access_token);
    for (const id of [tenant.workspaceId, stranger.workspaceId]) {
      expect((await getWorkspace({ client: server.client, headers, path: { id } })).response?.status).toBe(404);
      expect((await listWorkspaceEvents({ client: server.client, headers, path: { id } })).response?.status).toBe(404);
    }
    expect((await getEvent({ client: server.client, headers, path: { id: eventId } })).response?.status).toBe(404);
    expect((await listDeliveryAttempts({ client: server.client, headers, path: { id: eventId, ruleId } })).response?.status).toBe(404);
    const own = await getWorkspace({ client: server.client, headers, path: { id: second.data?.workspace.id ?? "" } });
    expect(own.response?.status).toBe(200);
  });

  it("when a resource session reads events, then only its resource's are found, and lists must be filtered to it", async () => {
    const mine = await emit({ resource: "user", resource_id: "1" });
    const theirs = await emit({ resource: "user", resource_id: "2" });
    const { access_token } = await mint({ session_type: "resource", resource: "user", resource_id: "1" });
    const headers = asSession(access_token);
    expect((await getEvent({ client: server.client, headers, path: { id: mine } })).response?.status).toBe(200);
    expect((await getEvent({ client: server.client, headers, path: { id: theirs } })).response?.status).toBe(404);
    expect((await getEvent({ client: server.client, headers, path: { id: eventId } })).response?.status).toBe(404);
    const path = { id: tenant.workspaceId };
    const unfiltered = await listWorkspaceEvents({ client: server.client, headers, path });
    expect(unfiltered.response?.status).toBe(403);
    const other = await listWorkspaceEvents({ client: server.client, headers, path, query: { resource: "user", resource_id: "2" } });
    expect(other.response?.status).toBe(403);
    const filtered = await listWorkspaceEvents({ client: server.client, headers, path, query: { resource: "user", resource_id: "1" } });
    expect(filtered.response?.status).toBe(200);
    expect(filtered.data?.records.map((r) => r.id)).toEqual([mine]);
  });

  it("when the payload is read without the scope events.payload:read, then 403; with it, 200", async () => {
    const without = await mint({ role: "owner" });
    const refused = await getEventPayload({ client: server.client, headers: asSession(without.access_token), path: { id: eventId } });
    expect(refused.response?.status).toBe(403);
    expect(refused.error).toMatchObject({ error: { name: "Forbidden" } });
    const scoped = await mint({ scopes: ["events.payload:read"] });
    const read = await getEventPayload({ client: server.client, headers: asSession(scoped.access_token), path: { id: eventId } });
    expect(read.response?.status).toBe(200);
    expect(read.data?.payload).toEqual({ email: "a@example.com" });
  });

  it("when the session has allowed origins, then another Origin is 403; its own, the server's, or none pass", async () => {
    const { access_token } = await mint({ allowed_origins: ["https://app.example.com"] });
    const read = (origin?: string) =>
      getWorkspace({
        client: server.client,
        headers: asSession(access_token, origin === undefined ? {} : { Origin: origin }),
        path: { id: tenant.workspaceId },
      });
    expect((await read("https://evil.example.com")).response?.status).toBe(403);
    expect((await read("null")).response?.status).toBe(403);
    expect((await read("https://app.example.com")).response?.status).toBe(200);
    expect((await read(server.baseUrl)).response?.status).toBe(200);
    expect((await read()).response?.status).toBe(200);
    const anywhere = await mint();
    const free = await getWorkspace({
      client: server.client,
      headers: asSession(anywhere.access_token, { Origin: "https://evil.example.com" }),
      path: { id: tenant.workspaceId },
    });
    expect(free.response?.status).toBe(200);
  });

  it("when a member retries or cancels, or a dashboard admin does, then 403; an admin retries and an owner cancels", async () => {
    const failed = await emit();
    await failDelivery(failed);
    const path = { id: failed, ruleId };
    const member = await mint();
    expect((await retryDelivery({ client: server.client, headers: asSession(member.access_token), path })).response?.status).toBe(403);
    expect((await cancelDelivery({ client: server.client, headers: asSession(member.access_token), path })).response?.status).toBe(403);
    const dashboard = await mint({ role: "owner", session_type: "dashboard" });
    expect((await retryDelivery({ client: server.client, headers: asSession(dashboard.access_token), path })).response?.status).toBe(403);
    const admin = await mint({ role: "admin" });
    const retried = await retryDelivery({ client: server.client, headers: asSession(admin.access_token), path });
    expect(retried.response?.status).toBe(200);
    expect(retried.data?.status).toBe("pending");
    const owner = await mint({ role: "owner" });
    const canceled = await cancelDelivery({ client: server.client, headers: asSession(owner.access_token), path });
    expect(canceled.response?.status).toBe(200);
  });

  it.each<[string, string, string, unknown?]>([
    ["mint a session", "POST", "/api/v1/sessions", { workspace_id: "<ws>" }],
    ["list sessions", "GET", "/api/v1/sessions?workspace_id=<ws>"],
    ["refresh its session", "POST", "/api/v1/sessions/<session>/refresh"],
    ["revoke its session", "DELETE", "/api/v1/sessions/<session>"],
    ["list the organization's workspaces", "GET", "/api/v1/workspaces"],
    ["create a workspace", "POST", "/api/v1/workspaces", { name: "Mine" }],
    ["rename its workspace", "PUT", "/api/v1/workspaces/<ws>", { name: "Renamed" }],
    ["rotate its publishable key", "POST", "/api/v1/workspaces/<ws>/publishable-key/rotate"],
    ["list the organization's events", "GET", "/api/v1/events"],
    ["list the organization's connections", "GET", "/api/v1/connections"],
    ["list the organization's rules", "GET", "/api/v1/rules"],
    ["create a connection", "POST", "/api/v1/connections", { workspace: "<ws>", integration_type: "webhook", name: "x", metadata: {} }],
    ["delete a rule", "DELETE", "/api/v1/rules/<rule>"],
    ["cancel an event", "POST", "/api/v1/events/<event>/cancel"],
    ["replay deliveries", "POST", "/api/v1/replays", { workspace: "<ws>", from: new Date().toISOString() }],
    ["ingest an event", "POST", "/api/v1/events", { event: "ping", payload: {}, workspace: "<ws>" }],
    ["ingest in bulk", "POST", "/api/v1/events/bulk", [{ event: "ping", payload: {}, workspace: "<ws>" }]],
  ])("when an owner session tries to %s, then 403 and nothing changes", async (_case, method, template, body) => {
    const session = await mint({ role: "owner", scopes: ["events.payload:read", "dashboard", "connections", "rules", "events"] });
    const fill = (text: string) =>
      text
        .replaceAll("<ws>", tenant.workspaceId)
        .replaceAll("<session>", session.session_id)
        .replaceAll("<rule>", ruleId)
        .replaceAll("<event>", eventId);
    const before = await snapshot();
    const response = await fetch(`${server.baseUrl}${fill(template)}`, {
      method,
      headers: { ...asSession(session.access_token), "Content-Type": "application/json" },
      body: body === undefined ? null : fill(JSON.stringify(body)),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ message: "Forbidden", error: { name: "Forbidden" } });
    expect(await snapshot()).toEqual(before);
  });
});

/** Counts that a refused write would move. */
async function snapshot(): Promise<Record<string, unknown>> {
  const { rows } = await sql<Record<string, unknown>>`
    select (select count(*)::int from embed_sessions) as sessions,
      (select count(*)::int from embed_sessions where revoked_at is not null) as revoked,
      (select count(*)::int from workspaces) as workspaces,
      (select string_agg(name, ',' order by id) from workspaces) as names,
      (select count(*)::int from publishable_keys) as keys,
      (select count(*)::int from connections) as connections,
      (select count(*)::int from rules where deleted_at is null) as rules,
      (select count(*)::int from events) as events,
      (select string_agg(status, ',' order by id) from rule_events) as deliveries`.execute(server.db);
  return rows[0] ?? {};
}
