import {
  createEvent,
  createEventsBulk,
  createWorkspace,
  getWorkspace,
  listWorkspaces,
  rotatePublishableKey,
  updateWorkspace,
} from "@switchyard/client";
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

  it("when a workspace is created with a description, then every answer carries it and active: true", async () => {
    const body = { name: "Described", description: "The shop's live traffic." };
    const { data, response } = await createWorkspace({ client: server.client, headers: await auth(), body });
    expect(response?.status).toBe(201);
    expect(data?.workspace).toMatchObject({ description: "The shop's live traffic.", active: true });
    const id = data?.workspace.id ?? "";
    const fetched = await getWorkspace({ client: server.client, headers: await auth(), path: { id } });
    expect(fetched.data).toMatchObject({ name: "Described", description: "The shop's live traffic.", active: true });
    const listed = await listWorkspaces({ client: server.client, headers: await auth(), query: { limit: 200 } });
    expect(listed.data?.records.find((w) => w.id === id)).toMatchObject({ description: "The shop's live traffic.", active: true });
  });

  it("when a workspace is created without a description, then it reads description: null", async () => {
    const { data } = await createWorkspace({ client: server.client, headers: await auth(), body: { name: "Plain" } });
    expect(data?.workspace.description).toBeNull();
  });

  it("when an update leaves description out, then it is kept; when it sends null, then it is cleared; a string replaces it", async () => {
    const { data: created } = await createWorkspace({
      client: server.client,
      headers: await auth(),
      body: { name: "Kept", description: "first" },
    });
    const path = { id: created?.workspace.id ?? "" };
    const update = async (body: { name: string; description?: string | null; active?: boolean }) =>
      (await updateWorkspace({ client: server.client, headers: await auth(), path, body })).data;

    expect(await update({ name: "Renamed" })).toMatchObject({ name: "Renamed", description: "first" });
    expect(await update({ name: "Renamed", description: "second" })).toMatchObject({ description: "second" });
    expect(await update({ name: "Renamed", description: null })).toMatchObject({ description: null });
    expect((await getWorkspace({ client: server.client, headers: await auth(), path })).data?.description).toBeNull();
  });

  it.each<[string, Record<string, unknown>]>([
    ["a description over 1024 characters", { name: "x", description: "d".repeat(1025) }],
    ["no name", { description: "only" }],
    ["a non-boolean active", { name: "x", active: "no" }],
    ["an unknown field", { name: "x", owner: "me" }],
  ])("when an update sends %s, then it answers 400 and nothing changes", async (_case, body) => {
    const path = { id: tenant.workspaceId };
    const before = (await getWorkspace({ client: server.client, headers: await auth(), path })).data;
    const { error, response } = await updateWorkspace({
      client: server.client,
      headers: await auth(),
      path,
      body: body as { name: string },
    });
    expect(response?.status).toBe(400);
    expect(error?.error.name).toBe("BadRequest");
    expect((await getWorkspace({ client: server.client, headers: await auth(), path })).data).toEqual(before);
  });

  it("when a workspace is deactivated, then it refuses new events 403 WorkspaceInactive with either credential, until reactivated", async () => {
    const { data: created } = await createWorkspace({ client: server.client, headers: await auth(), body: { name: "Paused" } });
    const id = created?.workspace.id ?? "";
    const key = created?.publishable_key.key ?? "";
    const off = await updateWorkspace({
      client: server.client,
      headers: await auth(),
      path: { id },
      body: { name: "Paused", active: false },
    });
    expect(off.data).toMatchObject({ active: false, description: null });

    const single = await createEvent({
      client: server.client,
      headers: { "X-Meshes-Publishable-Key": key },
      body: { event: "a", payload: {} },
    });
    expect(single.response?.status).toBe(403);
    expect(single.error?.error).toMatchObject({ name: "WorkspaceInactive", data: [{ param: "workspace", msg: "is inactive" }] });
    const bulk = await createEventsBulk({
      client: server.client,
      headers: await auth(),
      body: [
        { event: "a", payload: {}, workspace: id },
        { event: "a", payload: {}, workspace: tenant.workspaceId },
      ],
    });
    expect(bulk.response?.status).toBe(207);
    expect(bulk.data?.records[0]).toMatchObject({ type: "error", error: { name: "WorkspaceInactive" } });
    expect(bulk.data?.records[1]).toMatchObject({ type: "event", workspace: tenant.workspaceId });
    const stored = await server.db.selectFrom("events").select("id").where("workspace_id", "=", id).execute();
    expect(stored).toEqual([]);

    await updateWorkspace({ client: server.client, headers: await auth(), path: { id }, body: { name: "Paused", active: true } });
    const again = await createEvent({
      client: server.client,
      headers: { "X-Meshes-Publishable-Key": key },
      body: { event: "a", payload: {} },
    });
    expect(again.response?.status).toBe(201);
  });

  it("when workspaces are listed with ?active=, then only those with that state come back", async () => {
    const org = await createTenant(server.db, server.secretBox, "Filtered");
    const headers = async () => bearer(org.machine);
    const { data: off } = await createWorkspace({ client: server.client, headers: await headers(), body: { name: "Off" } });
    await updateWorkspace({
      client: server.client,
      headers: await headers(),
      path: { id: off?.workspace.id ?? "" },
      body: { name: "Off", active: false },
    });
    const names = async (active?: boolean) =>
      (await listWorkspaces({ client: server.client, headers: await headers(), query: { active } })).data?.records.map((w) => w.name);
    expect(await names(true)).toEqual(["Filtered workspace"]);
    expect(await names(false)).toEqual(["Off"]);
    expect(await names()).toEqual(["Filtered workspace", "Off"]);
    const raw = await fetch(`${server.baseUrl}/api/v1/workspaces?active=maybe`, { headers: await headers() });
    expect(raw.status).toBe(400);
  });

  it.each<[string, Record<string, unknown>]>([
    ["an empty name", { name: "" }],
    ["a description over 1024 characters", { name: "x", description: "d".repeat(1025) }],
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
