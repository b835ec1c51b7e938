import { describe, expect, it } from "vitest";
import { createTenant } from "../support/fixtures.js";
import { createdSession, errorEnvelope, expectShape, page, session, sessionRecord } from "../support/meshesShapes.js";
import { useMeshesParity } from "../support/useMeshesParity.js";

/**
 * The four session operations of Meshes' MCP server, sent as its client.ts sends them (through Meshes' API
 * client: fresh JWT, JSON headers, undefined fields and query values left out, no body on refresh and revoke).
 */
const parity = useMeshesParity();
const workspaceId = () => parity.file.tenant.workspaceId;

/** `createSession(params)`: every parameter the tool has, undefined where the caller gave none. */
function createSessionParams(given: Record<string, unknown>) {
  return {
    workspace_id: workspaceId(),
    role: undefined,
    session_type: undefined,
    external_user_id: undefined,
    ttl_seconds: undefined,
    launch_ttl_seconds: undefined,
    launch_page: undefined,
    resource: undefined,
    resource_id: undefined,
    allowed_origins: undefined,
    scopes: undefined,
    ...given,
  };
}

/** `listSessions(params)`: the query the client builds (undefined values are left out). */
function listSessionsQuery(given: Record<string, string | number | undefined>) {
  return {
    workspace_id: workspaceId(),
    limit: undefined,
    cursor: undefined,
    status: undefined,
    resource: undefined,
    resource_id: undefined,
    ...given,
  };
}

async function created(given: Record<string, unknown> = {}) {
  const answer = await parity.meshes.post("/sessions", createSessionParams(given));
  expect(answer.status).toBe(201);
  expectShape(answer.body, createdSession);
  return answer.body as { session_id: string; access_token: string };
}

describe("meshes_create_session", () => {
  it("when the tool sends only the workspace, then 201 with a CreatedSession", async () => {
    const body = await created();
    expect(body).toMatchObject({ workspace_id: workspaceId(), role: "member", session_type: "workspace", expires_in: 1800 });
  });

  it("when the tool sends every field, then 201 with a CreatedSession naming the resource", async () => {
    const body = await created({
      role: "admin",
      session_type: "resource",
      external_user_id: "user_42",
      ttl_seconds: 3600,
      launch_ttl_seconds: 60,
      launch_page: "events",
      resource: "user",
      resource_id: "42",
      allowed_origins: ["https://app.example.com"],
      scopes: ["events.payload:read"],
    });
    expect(body).toMatchObject({ role: "admin", session_type: "resource", resource: "user", resource_id: "42", expires_in: 3600 });
  });

  it.each<[string, Record<string, unknown>, number]>([
    ["a ttl out of range", { ttl_seconds: 60 }, 400],
    ["an origin with a path", { allowed_origins: ["https://app.example.com/embed"] }, 400],
    ["a resource session without its resource", { session_type: "resource" }, 400],
    ["an unknown workspace", { workspace_id: "0192f0c5-0000-4000-8000-00000000abcd" }, 404],
  ])("when the tool sends %s, then %i in the error envelope", async (_case, given, status) => {
    const answer = await parity.meshes.post("/sessions", createSessionParams(given));
    expect(answer.status).toBe(status);
    expectShape(answer.body, errorEnvelope);
  });

  it("when the workspace is another organization's, then 404", async () => {
    const { file } = parity;
    const other = await createTenant(file.server.db, file.server.secretBox, "Elsewhere");
    const answer = await parity.meshes.post("/sessions", createSessionParams({ workspace_id: other.workspaceId }));
    expect(answer.status).toBe(404);
    expectShape(answer.body, errorEnvelope);
  });
});

describe("meshes_list_sessions", () => {
  it("when the tool pages with filters, then each page is a PaginatedResponse<SessionRecord> whose cursor the tool accepts", async () => {
    const made = [await created({ session_type: "resource", resource: "order", resource_id: "7" })];
    made.push(await created({ session_type: "resource", resource: "order", resource_id: "7" }));
    made.push(await created({ session_type: "resource", resource: "order", resource_id: "7" }));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const answer = await parity.meshes.get(
        "/sessions",
        listSessionsQuery({ limit: 2, cursor, status: "active", resource: "order", resource_id: "7" }),
      );
      expect(answer.status).toBe(200);
      expectShape(answer.body, page(sessionRecord));
      const body = answer.body as { next_cursor: string | null; records: Array<{ session_id: string }> };
      seen.push(...body.records.map((r) => r.session_id));
      cursor = body.next_cursor ?? undefined;
      // The MCP tool refuses any other cursor before sending it back.
      if (cursor !== undefined) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor !== undefined);
    expect(seen).toEqual(made.map((s) => s.session_id).reverse());
  });

  it("when the tool lists without filters, then 200 with every session of the workspace", async () => {
    const answer = await parity.meshes.get("/sessions", listSessionsQuery({}));
    expect(answer.status).toBe(200);
    expectShape(answer.body, page(sessionRecord));
  });

  it("when the workspace is unknown, then 404", async () => {
    const answer = await parity.meshes.get("/sessions", listSessionsQuery({ workspace_id: "0192f0c5-0000-4000-8000-00000000abcd" }));
    expect(answer.status).toBe(404);
    expectShape(answer.body, errorEnvelope);
  });
});

describe("meshes_refresh_session", () => {
  it("when the tool refreshes, then 200 with a Session carrying a new access token", async () => {
    const minted = await created();
    const answer = await parity.meshes.post(`/sessions/${minted.session_id}/refresh`);
    expect(answer.status).toBe(200);
    expectShape(answer.body, session);
    expect((answer.body as { access_token: string }).access_token).not.toBe(minted.access_token);
  });

  it("when the session is unknown, then 404; when it is revoked, then 409", async () => {
    const unknown = await parity.meshes.post("/sessions/0192f0c5-0000-7000-8000-00000000abcd/refresh");
    expect(unknown.status).toBe(404);
    expectShape(unknown.body, errorEnvelope);
    const minted = await created();
    await parity.meshes.delete(`/sessions/${minted.session_id}`);
    const revoked = await parity.meshes.post(`/sessions/${minted.session_id}/refresh`);
    expect(revoked.status).toBe(409);
    expectShape(revoked.body, errorEnvelope);
  });
});

describe("meshes_revoke_session", () => {
  it("when the tool revokes, then 200 {revoked: true}, and again 200 {revoked: true}", async () => {
    const minted = await created();
    for (let i = 0; i < 2; i++) {
      const answer = await parity.meshes.delete(`/sessions/${minted.session_id}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ revoked: true });
    }
  });

  it("when the session is unknown, then 404", async () => {
    const answer = await parity.meshes.delete("/sessions/0192f0c5-0000-7000-8000-00000000abcd");
    expect(answer.status).toBe(404);
    expectShape(answer.body, errorEnvelope);
  });
});
