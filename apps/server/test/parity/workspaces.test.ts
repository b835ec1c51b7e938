import { randomUUID } from "node:crypto";
import { createWebhookRoute } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import {
  connection,
  errorEnvelope,
  expectShape,
  object,
  page,
  rule,
  string,
  workspace,
  workspaceCatalogEntry,
} from "../support/meshesShapes.js";
import { useMeshesParity } from "../support/useMeshesParity.js";

// The MCP server's eight workspace tools, each sending what its client.ts sends (method, path, query, body),
// through a caller that puts on the wire what Meshes' API client puts there.

const parity = useMeshesParity();

/** Ingests a few events into the tenant's workspace with its publishable key, as Meshes' events SDK would. */
async function ingest(items: ReadonlyArray<{ event: string; resource?: string }>): Promise<void> {
  const response = await fetch(`${parity.file.server.baseUrl}/api/v1/events/bulk`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Meshes-Publishable-Key": parity.file.tenant.publishableKey },
    body: JSON.stringify(items.map((item) => ({ ...item, payload: { n: 1 } }))),
  });
  expect(response.status).toBe(201);
}

describe("workspace tools (parity)", () => {
  it("meshes_list_workspaces: GET /workspaces answers a page of Workspace", async () => {
    const answer = await parity.meshes.get("/workspaces");
    expect(answer.status).toBe(200);
    expectShape(answer.body, page(workspace));
    expect((answer.body as { records: Array<{ id: string }> }).records.map((w) => w.id)).toContain(parity.file.tenant.workspaceId);
  });

  it("meshes_get_workspace: GET /workspaces/{id} answers the Workspace with its publishable key's public part", async () => {
    const answer = await parity.meshes.get(`/workspaces/${parity.file.tenant.workspaceId}`);
    expect(answer.status).toBe(200);
    expectShape(answer.body, object({ publishable_key: object({ public_key: string, name: string }) }));
    expectShape(answer.body, workspace);
  });

  it("meshes_create_workspace: POST /workspaces {name, description} answers {workspace}, with and without a description", async () => {
    const described = await parity.meshes.post("/workspaces", { name: "Tenant 42", description: "Onboarded from the MCP server" });
    expect(described.status).toBe(201);
    expectShape(described.body, object({ workspace }));
    expect(described.body).toMatchObject({ workspace: { name: "Tenant 42", description: "Onboarded from the MCP server" } });
    // The tool's optional description, left undefined, is dropped by JSON.stringify.
    const plain = await parity.meshes.post("/workspaces", { name: "Tenant 43", description: undefined });
    expect(plain.status).toBe(201);
    expectShape(plain.body, object({ workspace }));
    expect(plain.body).toMatchObject({ workspace: { description: null } });
  });

  it("meshes_update_workspace: PUT /workspaces/{id} {name, description: null} answers the Workspace, the description cleared", async () => {
    const created = await parity.meshes.post("/workspaces", { name: "To update", description: "old words" });
    const id = (created.body as { workspace: { id: string } }).workspace.id;
    const answer = await parity.meshes.put(`/workspaces/${id}`, { name: "Updated", description: null });
    expect(answer.status).toBe(200);
    expectShape(answer.body, workspace);
    expect(answer.body).toMatchObject({ id, name: "Updated", description: null });
  });

  it("meshes_get_workspace_connections: GET /workspaces/{id}/connections answers the list envelope", async () => {
    await createWebhookRoute(parity.file.server.client, parity.file.tenant, "parity.connection", "http://127.0.0.1:9/hook");
    const answer = await parity.meshes.get(`/workspaces/${parity.file.tenant.workspaceId}/connections`);
    expect(answer.status).toBe(200);
    expectShape(answer.body, page(connection));
    expect((answer.body as { records: unknown[] }).records.length).toBeGreaterThan(0);
  });

  it("meshes_get_workspace_event_types: GET /workspaces/{id}/event-types answers a page of WorkspaceCatalogEntry", async () => {
    await ingest([{ event: "parity.created", resource: "parity" }, { event: "parity.created" }, { event: "parity.deleted" }]);
    const answer = await parity.meshes.get(`/workspaces/${parity.file.tenant.workspaceId}/event-types`);
    expect(answer.status).toBe(200);
    expectShape(answer.body, page(workspaceCatalogEntry));
    const records = (answer.body as { records: Array<{ key: string; event_count: number }> }).records;
    expect(records.find((r) => r.key === "parity.created")?.event_count).toBe(2);
  });

  it("meshes_get_workspace_resources: GET /workspaces/{id}/resources answers a page of WorkspaceCatalogEntry", async () => {
    await ingest([{ event: "parity.resource", resource: "invoice" }]);
    const answer = await parity.meshes.get(`/workspaces/${parity.file.tenant.workspaceId}/resources`);
    expect(answer.status).toBe(200);
    expectShape(answer.body, page(workspaceCatalogEntry));
    expect((answer.body as { records: Array<{ key: string }> }).records.map((r) => r.key)).toContain("invoice");
  });

  it("meshes_get_workspace_rules: GET /workspaces/{id}/rules?event&resource&resource_id answers the list envelope", async () => {
    await createWebhookRoute(parity.file.server.client, parity.file.tenant, "parity.ruled", "http://127.0.0.1:9/hook", {
      filter: { resource: "order", resource_id: "o_1" },
    });
    const answer = await parity.meshes.get(`/workspaces/${parity.file.tenant.workspaceId}/rules`, {
      event: "parity.ruled",
      resource: "order",
      resource_id: "o_1",
    });
    expect(answer.status).toBe(200);
    expectShape(answer.body, page(rule));
    expect(answer.body).toMatchObject({ count: 1, records: [{ event: "parity.ruled", resource: "order", resource_id: "o_1" }] });
    // As the tool sends it with no filters: the query string is left out.
    expect((await parity.meshes.get(`/workspaces/${parity.file.tenant.workspaceId}/rules`, {})).status).toBe(200);
  });
});

describe("workspace tools' documented errors (parity)", () => {
  it.each([
    ["meshes_get_workspace", (id: string) => parity.meshes.get(`/workspaces/${id}`)],
    ["meshes_update_workspace", (id: string) => parity.meshes.put(`/workspaces/${id}`, { name: "Nobody", description: null })],
    ["meshes_get_workspace_connections", (id: string) => parity.meshes.get(`/workspaces/${id}/connections`)],
    ["meshes_get_workspace_event_types", (id: string) => parity.meshes.get(`/workspaces/${id}/event-types`)],
    ["meshes_get_workspace_resources", (id: string) => parity.meshes.get(`/workspaces/${id}/resources`)],
    ["meshes_get_workspace_rules", (id: string) => parity.meshes.get(`/workspaces/${id}/rules`, { event: "x" })],
  ])("%s with an unknown workspace: 404 in the error envelope", async (_tool, call) => {
    const answer = await call(randomUUID());
    expect(answer.status).toBe(404);
    expectShape(answer.body, errorEnvelope);
    expect(answer.body).toMatchObject({ error: { name: "NotFound" } });
  });

  it.each<[string, string, Record<string, unknown>]>([
    ["meshes_create_workspace", "post", { description: "no name" }],
    ["meshes_create_workspace", "post", { name: "Long", description: "d".repeat(1025) }],
    ["meshes_update_workspace", "put", { name: "Long", description: "d".repeat(1025) }],
    ["meshes_update_workspace", "put", { description: null }],
  ])("%s with a bad body (%s): 400 in the error envelope, nothing changed", async (_tool, method, body) => {
    const path = method === "post" ? "/workspaces" : `/workspaces/${parity.file.tenant.workspaceId}`;
    const before = await parity.meshes.get(`/workspaces/${parity.file.tenant.workspaceId}`);
    const answer = method === "post" ? await parity.meshes.post(path, body) : await parity.meshes.put(path, body);
    expect(answer.status).toBe(400);
    expectShape(answer.body, errorEnvelope);
    expect(answer.body).toMatchObject({ error: { name: "BadRequest", data: [expect.objectContaining({ param: expect.any(String) })] } });
    expect((await parity.meshes.get(`/workspaces/${parity.file.tenant.workspaceId}`)).body).toEqual(before.body);
  });
});
