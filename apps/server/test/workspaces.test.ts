import { createEvent, createWorkspace, getWorkspace, listWorkspaces, rotatePublishableKey, updateWorkspace } from "@switchyard/client";
import { describe, expect, it } from "vitest";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

let server: TestServer;
let tenant: Tenant;
let stranger: Tenant;

useTestServer({ tenant: "Acme" }, async (file) => {
  ({ server, tenant } = file);
  stranger = await createTenant(server.db, server.secretBox, "Stranger");
});

const auth = () => bearer(tenant.machine);

describe("workspaces API", () => {
  it("when a workspace is created, then the answer carries its full publishable key once and GET shows only the public part", async () => {
    const { data, response } = await createWorkspace({ client: server.client, headers: await auth(), body: { name: "Production" } });
    expect(response?.status).toBe(201);
    expect(data?.workspace).toMatchObject({ type: "workspace", organization: tenant.organizationId, name: "Production" });
    const key = data?.publishable_key.key ?? "";
    expect(key).toMatch(/^mesh_pub_([A-Za-z0-9\-.]+)_([A-Za-z0-9\-.]+)_([^_]+)$/);
    expect(key.startsWith(`${data?.publishable_key.public_key}_`)).toBe(true);

    const fetched = await getWorkspace({ client: server.client, headers: await auth(), path: { id: data?.workspace.id ?? "" } });
    expect(fetched.response?.status).toBe(200);
    expect(fetched.data?.publishable_key).toEqual({
      public_key: data?.publishable_key.public_key,
      name: "default",
      created_at: data?.publishable_key.created_at,
    });
    expect(JSON.stringify(fetched.data)).not.toContain(key);

    const emitted = await createEvent({
      client: server.client,
      headers: { "X-Meshes-Publishable-Key": key },
      body: { event: "a", payload: {} },
    });
    expect(emitted.response?.status).toBe(201);
    expect(emitted.data?.event.workspace).toBe(data?.workspace.id);
  });

  it("when the key is rotated, then the new key works and the old one answers 401", async () => {
    const created = await createWorkspace({ client: server.client, headers: await auth(), body: { name: "Rotating" } });
    const id = created.data?.workspace.id ?? "";
    const oldKey = created.data?.publishable_key.key ?? "";
    const rotated = await rotatePublishableKey({ client: server.client, headers: await auth(), path: { id } });
    expect(rotated.response?.status).toBe(201);
    const newKey = rotated.data?.key ?? "";
    expect(newKey).not.toBe(oldKey);

    const body = { event: "a", payload: {} };
    expect((await createEvent({ client: server.client, headers: { "X-Meshes-Publishable-Key": oldKey }, body })).response?.status).toBe(
      401,
    );
    expect((await createEvent({ client: server.client, headers: { "X-Meshes-Publishable-Key": newKey }, body })).response?.status).toBe(
      201,
    );
    const fetched = await getWorkspace({ client: server.client, headers: await auth(), path: { id } });
    expect(fetched.data?.publishable_key?.public_key).toBe(rotated.data?.public_key);
  });

  it("when workspaces are listed with a small limit, then the cursor walks every page once, oldest first", async () => {
    const org = await createTenant(server.db, server.secretBox, "Paged");
    const headers = await bearer(org.machine);
    for (const name of ["b", "c", "d", "e"]) await createWorkspace({ client: server.client, headers, body: { name } });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { data, response } = await listWorkspaces({
        client: server.client,
        headers: await bearer(org.machine),
        query: { limit: 2, cursor },
      });
      expect(response?.status).toBe(200);
      expect(data?.limit).toBe(2);
      expect(data?.count).toBe(data?.records.length);
      seen.push(...(data?.records.map((w) => w.name) ?? []));
      cursor = data?.next_cursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined && pages < 10);
    expect(seen).toEqual(["Paged workspace", "b", "c", "d", "e"]);
    expect(pages).toBe(3);
  });

  it("when a workspace is renamed, then GET shows the new name and a later updated_at", async () => {
    const { data: created } = await createWorkspace({ client: server.client, headers: await auth(), body: { name: "Old" } });
    const id = created?.workspace.id ?? "";
    const { data, response } = await updateWorkspace({ client: server.client, headers: await auth(), path: { id }, body: { name: "New" } });
    expect(response?.status).toBe(200);
    expect(data?.name).toBe("New");
    expect(Date.parse(data?.updated_at ?? "")).toBeGreaterThanOrEqual(Date.parse(created?.workspace.updated_at ?? ""));
  });

  it("when another organization's workspace is read, renamed or rotated, then it answers 404 and nothing changes", async () => {
    const path = { id: stranger.workspaceId };
    const got = await getWorkspace({ client: server.client, headers: await auth(), path });
    expect(got.response?.status).toBe(404);
    expect(got.error?.error.name).toBe("NotFound");
    const renamed = await updateWorkspace({ client: server.client, headers: await auth(), path, body: { name: "Hijacked" } });
    expect(renamed.response?.status).toBe(404);
    const rotated = await rotatePublishableKey({ client: server.client, headers: await auth(), path });
    expect(rotated.response?.status).toBe(404);
    const own = await getWorkspace({ client: server.client, headers: await bearer(stranger.machine), path });
    expect(own.data?.name).toBe("Stranger workspace");
    const stillWorks = await createEvent({
      client: server.client,
      headers: { "X-Meshes-Publishable-Key": stranger.publishableKey },
      body: { event: "a", payload: {} },
    });
    expect(stillWorks.response?.status).toBe(201);
  });

  it("when an organization lists workspaces, then it sees only its own", async () => {
    const { data } = await listWorkspaces({ client: server.client, headers: await bearer(stranger.machine), query: { limit: 200 } });
    expect(data?.records.map((w) => w.organization)).toEqual([stranger.organizationId]);
  });

  it.each<[string, Record<string, unknown>]>([
    ["an empty name", { name: "" }],
    ["no name", {}],
    ["an unknown field", { name: "x", owner: "me" }],
    ["a non-string name", { name: 7 }],
  ])("when a workspace is created with %s, then it answers 400 in the envelope", async (_case, body) => {
    const { error, response } = await createWorkspace({ client: server.client, headers: await auth(), body: body as { name: string } });
    expect(response?.status).toBe(400);
    expect(error?.error.name).toBe("BadRequest");
  });

  it.each([
    ["a limit of 0", { limit: 0 }],
    ["a limit of 201", { limit: 201 }],
    ["a cursor this API never returned", { cursor: "bm90LWEtdXVpZA" }],
  ])("when workspaces are listed with %s, then it answers 400", async (_case, query) => {
    const { error, response } = await listWorkspaces({ client: server.client, headers: await auth(), query });
    expect(response?.status).toBe(400);
    expect(error?.error.name).toBe("BadRequest");
  });

  it("when a workspace id is not a uuid, then it answers 400", async () => {
    const { response } = await getWorkspace({ client: server.client, headers: await auth(), path: { id: "nope" } });
    expect(response?.status).toBe(400);
  });
});
