import { startReceiver } from "@switchyard/testing";
import { beforeAll, describe, expect, it } from "vitest";
import {
  arrayOf,
  connection,
  connectionDefaultMappingResult,
  connectionFieldCatalog,
  errorEnvelope,
  expectShape,
  integration,
  integrationType,
  object,
  page,
  string,
  uuid,
} from "../support/meshesShapes.js";
import { useMeshesParity } from "../support/useMeshesParity.js";

// The ten connection tools of Meshes' MCP server, each sent exactly as its client sends it (method, path, query,
// body), through the same caller Meshes' API client is; every answer is checked against Meshes' declared shape.

const parity = useMeshesParity();
let url: string;

beforeAll(async () => {
  // A local receiver: loopback, which the test server's destination allow-list names.
  const receiver = await startReceiver([{ status: 200 }]);
  parity.file.closers.push(receiver.close);
  url = `${receiver.url}/meshes`;
});

const unknownId = "0192f0c5-0000-7000-8000-00000000dead";

/** meshes_create_connection: `{workspace, type, name, metadata, hidden}` (hidden left out when the tool got none). */
async function createConnection(extra: { hidden?: boolean; metadata?: Record<string, unknown> } = {}) {
  const body = {
    workspace: parity.file.tenant.workspaceId,
    type: "webhook",
    name: "Parity hook",
    metadata: { url, http_method: "POST", payload_mode: "wrapped", auth_scheme: "none", ...extra.metadata },
    ...(extra.hidden === undefined ? {} : { hidden: extra.hidden }),
  };
  const answer = await parity.meshes.post("/connections", body);
  expect(answer.status).toBe(201);
  expectShape(answer.body, object({ connection }));
  return (answer.body as { connection: { id: string; metadata: Record<string, unknown> } }).connection;
}

function expectError(answer: { status: number; body: unknown }, status: number, name: string): void {
  expect(answer.status).toBe(status);
  expectShape(answer.body, errorEnvelope);
  expect(answer.body).toMatchObject({ error: { name } });
}

describe("meshes_create_connection, meshes_get_connection, meshes_list_connections", () => {
  it("when a webhook connection is created as the MCP sends it, then create, get and list answer Meshes' Connection", async () => {
    const created = await createConnection({ hidden: false });
    const fetched = await parity.meshes.get(`/connections/${created.id}`);
    expect(fetched.status).toBe(200);
    expectShape(fetched.body, connection);
    expect(fetched.body).toMatchObject({ id: created.id, type: "webhook", hidden: false, active: true });

    const listed = await parity.meshes.get("/connections");
    expect(listed.status).toBe(200);
    expectShape(listed.body, page(connection));
    expect((listed.body as { records: Array<{ id: string }> }).records.map((c) => c.id)).toContain(created.id);
  });

  it("when the MCP leaves hidden out, or sends credentials inside metadata, then the connection is created and shows no credential", async () => {
    const created = await createConnection({ metadata: { auth_scheme: "bearer", token: "tok_parity-0123456789" } });
    expect(created.metadata).toMatchObject({ auth_scheme: "bearer" });
    expect(JSON.stringify(created)).not.toContain("tok_parity-0123456789");
    expect((await parity.meshes.get(`/connections/${created.id}`)).body).toMatchObject({ hidden: false });
  });

  it("when the id is unknown or the body invalid, then the errors are Meshes' envelope", async () => {
    expectError(await parity.meshes.get(`/connections/${unknownId}`), 404, "NotFound");
    const workspace = parity.file.tenant.workspaceId;
    expectError(await parity.meshes.post("/connections", { workspace, type: "teleport", name: "x", metadata: { url } }), 400, "BadRequest");
    expectError(
      await parity.meshes.post("/connections", { workspace, type: "webhook", integration_type: "slack", name: "x", metadata: { url } }),
      400,
      "BadRequest",
    );
    expectError(
      await parity.meshes.post("/connections", { workspace, type: "webhook", name: "x", metadata: { url: "ftp://x" } }),
      422,
      "UnprocessableEntity",
    );
  });
});

describe("meshes_update_connection", () => {
  it("when the MCP sends name, metadata and hidden, then the answer is the updated Connection", async () => {
    const created = await createConnection();
    const answer = await parity.meshes.put(`/connections/${created.id}`, { name: "Renamed", metadata: created.metadata, hidden: true });
    expect(answer.status).toBe(200);
    expectShape(answer.body, connection);
    expect(answer.body).toMatchObject({ name: "Renamed", hidden: true });
    const withoutHidden = await parity.meshes.put(`/connections/${created.id}`, { name: "Again", metadata: created.metadata });
    expect(withoutHidden.body).toMatchObject({ name: "Again", hidden: true });
    expectError(await parity.meshes.put(`/connections/${unknownId}`, { name: "x", metadata: { url } }), 404, "NotFound");
  });
});

describe("meshes_delete_connection", () => {
  const deleted = object({ id: uuid, type: integrationType });

  it("when the MCP deletes without force_delete (no body), then the answer is {id, type}", async () => {
    const created = await createConnection();
    const answer = await parity.meshes.delete(`/connections/${created.id}`);
    expect(answer.status).toBe(200);
    expectShape(answer.body, deleted);
    expect(answer.body).toEqual({ id: created.id, type: "webhook" });
    expectError(await parity.meshes.get(`/connections/${created.id}`), 404, "NotFound");
    expectError(await parity.meshes.delete(`/connections/${created.id}`), 404, "NotFound");
  });

  it("when active rules use the connection, then a plain delete answers 409 and {force_delete: true} deletes it", async () => {
    const created = await createConnection();
    const rule = await parity.meshes.post("/rules", {
      workspace: parity.file.tenant.workspaceId,
      connection: created.id,
      event: "parity.deleted",
      metadata: { action: "send_webhook" },
    });
    expect(rule.status).toBe(201);
    expectError(await parity.meshes.delete(`/connections/${created.id}`), 409, "Conflict");
    const forced = await parity.meshes.delete(`/connections/${created.id}`, { force_delete: true });
    expect(forced.status).toBe(200);
    expectShape(forced.body, deleted);
  });
});

describe("meshes_get_connection_actions", () => {
  it("when the MCP asks for a webhook connection's actions, then send_webhook is among them", async () => {
    const created = await createConnection();
    const answer = await parity.meshes.get(`/connections/${created.id}/actions`);
    expect(answer.status).toBe(200);
    expectShape(
      answer.body,
      object({
        actions: object({
          send_webhook: object({ key: string, label: string, noun: string, items: arrayOf(object({ id: string, label: string })) }),
        }),
      }),
    );
    expectError(await parity.meshes.get(`/connections/${unknownId}/actions`), 404, "NotFound");
  });
});

describe("meshes_get_connection_fields", () => {
  it("when the MCP asks for the field catalog, with and without refresh=true, then both answer Meshes' ConnectionFieldCatalog", async () => {
    const created = await createConnection();
    const plain = await parity.meshes.get(`/connections/${created.id}/fields`);
    expect(plain.status).toBe(200);
    expectShape(plain.body, connectionFieldCatalog);
    const refreshed = await parity.meshes.get(`/connections/${created.id}/fields?refresh=true`);
    expect(refreshed.status).toBe(200);
    expectShape(refreshed.body, connectionFieldCatalog);
    expect(refreshed.body).toMatchObject({ connection_id: created.id, integration_type: "webhook" });
    expectError(await parity.meshes.get(`/connections/${unknownId}/fields`), 404, "NotFound");
  });
});

describe("meshes_get_connection_default_mappings, meshes_update_connection_default_mappings", () => {
  const schema = {
    schema_version: 1,
    fields: [{ dest: "email", source: { type: "path", value: "user.email" }, transforms: [{ type: "lower" }], on_error: "skip_field" }],
    meta: { name: "Parity" },
  };

  it("when the MCP reads and stores the default mapping, then both answer Meshes' ConnectionDefaultMappingResult", async () => {
    const created = await createConnection();
    const generated = await parity.meshes.get(`/connections/${created.id}/mappings/default`);
    expect(generated.status).toBe(200);
    expectShape(generated.body, connectionDefaultMappingResult);
    const mapping = (generated.body as { mapping: { mapping_id: string; workspace_id: string; version: number } }).mapping;
    expect(generated.body).toMatchObject({ status: "generated" });

    const stored = await parity.meshes.put(`/connections/${created.id}/mappings/default`, {
      workspace_id: mapping.workspace_id,
      mapping_id: mapping.mapping_id,
      expected_version: mapping.version,
      name: "Parity mapping",
      schema,
    });
    expect(stored.status).toBe(200);
    expectShape(stored.body, connectionDefaultMappingResult);
    expect(stored.body).toMatchObject({ status: "stored", mapping: { version: mapping.version + 1, schema } });
    // The tool with only the schema (the others left out).
    const bare = await parity.meshes.put(`/connections/${created.id}/mappings/default`, { schema });
    expect(bare.status).toBe(200);
    expectShape(bare.body, connectionDefaultMappingResult);
  });

  it("when the version is stale, a dest repeats or the schema is invalid, then it answers 409, 422 or 400", async () => {
    const created = await createConnection();
    const path = `/connections/${created.id}/mappings/default`;
    expect((await parity.meshes.put(path, { schema })).status).toBe(200);
    expectError(await parity.meshes.put(path, { expected_version: 1, schema }), 409, "Conflict");
    const repeated = { schema_version: 1, fields: [schema.fields[0], schema.fields[0]] };
    expectError(await parity.meshes.put(path, { schema: repeated }), 422, "UnprocessableEntity");
    expectError(await parity.meshes.put(path, { schema: { schema_version: 2, fields: [] } }), 400, "BadRequest");
    expectError(await parity.meshes.get(`/connections/${unknownId}/mappings/default`), 404, "NotFound");
    expectError(await parity.meshes.put(`/connections/${unknownId}/mappings/default`, { schema }), 404, "NotFound");
  });
});

describe("meshes_list_integrations", () => {
  it("when the MCP lists integrations, then the answer is a page of Meshes' Integration with every integration built here", async () => {
    const answer = await parity.meshes.get("/integrations");
    expect(answer.status).toBe(200);
    expectShape(answer.body, page(integration));
    const records = (answer.body as { records: Array<{ type: string }> }).records;
    expect(records.map((r) => r.type)).toEqual([
      "discord",
      "hubspot",
      "mailchimp",
      "mailerlite",
      "resend",
      "salesforce",
      "sendgrid",
      "slack",
      "webhook",
    ]);
    expect(records.find((r) => r.type === "webhook")).toMatchObject({
      authentication: { type: "none" },
      actions: { send_webhook: { key: "send_webhook" } },
    });
    expect(records.find((r) => r.type === "hubspot")).toMatchObject({
      authentication: { type: "oauth", oauth: { version: 2 } },
      actions: {
        add_to_list: { key: "add_to_list" },
        remove_from_list: { key: "remove_from_list" },
        update_property: { key: "update_property" },
      },
    });
  });
});
