import { startReceiver } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { createTenant } from "../support/fixtures.js";
import { meshesApi } from "../support/meshesApi.js";
import { errorEnvelope, expectShape, object, page, rule, string, uuid } from "../support/meshesShapes.js";
import { useMeshesParity } from "../support/useMeshesParity.js";

/**
 * Meshes' MCP tools meshes_create_rule, meshes_list_rules, meshes_get_rule and meshes_delete_rule, sent as its
 * client sends them (src/client.ts: createRule, listRules, getRule, deleteRule).
 */
const parity = useMeshesParity();
const unknownId = "0192f0c5-0000-7000-8000-00000000dead";

/** A webhook connection in the tenant's workspace, made as meshes_create_connection makes one. */
async function newConnection(): Promise<string> {
  const receiver = await startReceiver();
  parity.file.closers.push(receiver.close);
  const { status, body } = await parity.meshes.post("/connections", {
    workspace: parity.file.tenant.workspaceId,
    type: "webhook",
    name: "Rules parity hook",
    metadata: { url: receiver.url },
  });
  expect(status).toBe(201);
  return (body as { connection: { id: string } }).connection.id;
}

/** meshes_create_rule's body: `metadata` is `{action, ...metadata_extra}`; absent options are left out by JSON. */
function createRuleBody(connection: string, extra: Record<string, unknown> = {}) {
  return {
    workspace: parity.file.tenant.workspaceId,
    connection,
    event: "contact.created",
    metadata: { action: "send_webhook" },
    resource: undefined,
    resource_id: undefined,
    active: undefined,
    hidden: undefined,
    ...extra,
  };
}

describe("Meshes' rule tools", () => {
  it("meshes_create_rule: answers 201 {rule} in Meshes' shape, with the extra metadata kept", async () => {
    const connection = await newConnection();
    const { status, body } = await parity.meshes.post(
      "/rules",
      createRuleBody(connection, {
        resource: "contact",
        resource_id: "c_1",
        active: true,
        hidden: true,
        metadata: { action: "send_webhook", id: "list-7", value: "vip" },
      }),
    );
    expect(status).toBe(201);
    expectShape(body, object({ rule }));
    expect((body as { rule: unknown }).rule).toMatchObject({
      workspace: parity.file.tenant.workspaceId,
      connection,
      type: "webhook",
      event: "contact.created",
      resource: "contact",
      resource_id: "c_1",
      metadata: { action: "send_webhook", id: "list-7", value: "vip" },
      active: true,
      hidden: true,
      created_by: parity.file.tenant.machine.accessKey,
    });
  });

  it("meshes_list_rules: answers a page of rules, filtered by event, resource and resource_id as the tool sends them", async () => {
    const connection = await newConnection();
    const made = (await parity.meshes.post("/rules", createRuleBody(connection, { event: "order.paid", resource: "order" }))).body as {
      rule: { id: string };
    };
    const all = await parity.meshes.get("/rules", {});
    expect(all.status).toBe(200);
    expectShape(all.body, page(rule));

    const filtered = await parity.meshes.get("/rules", { event: "order.paid", resource: "order", resource_id: undefined });
    expect(filtered.status).toBe(200);
    expectShape(filtered.body, page(rule));
    expect((filtered.body as { records: Array<{ id: string }> }).records.map((r) => r.id)).toEqual([made.rule.id]);
  });

  it("meshes_get_rule and meshes_delete_rule: the rule, then {id, connection, type, event}, then 404", async () => {
    const connection = await newConnection();
    const made = (await parity.meshes.post("/rules", createRuleBody(connection))).body as { rule: { id: string } };

    const fetched = await parity.meshes.get(`/rules/${made.rule.id}`);
    expect(fetched.status).toBe(200);
    expectShape(fetched.body, rule);
    expect(fetched.body).not.toHaveProperty("resource");

    const deleted = await parity.meshes.delete(`/rules/${made.rule.id}`);
    expect(deleted.status).toBe(200);
    expectShape(deleted.body, object({ id: uuid, connection: uuid, type: string, event: string }));
    expect(deleted.body).toEqual({ id: made.rule.id, connection, type: "webhook", event: "contact.created" });
    expect((await parity.meshes.get(`/rules/${made.rule.id}`)).status).toBe(404);
    expect((await parity.meshes.delete(`/rules/${made.rule.id}`)).status).toBe(404);
  });

  it("documented errors: unknown rule or connection 404, an action the integration lacks 422, a missing event 400, all in the envelope", async () => {
    const connection = await newConnection();
    const answers = [
      [await parity.meshes.get(`/rules/${unknownId}`), 404],
      [await parity.meshes.delete(`/rules/${unknownId}`), 404],
      [await parity.meshes.post("/rules", createRuleBody(unknownId)), 404],
      [await parity.meshes.post("/rules", createRuleBody(connection, { metadata: { action: "add_to_list" } })), 422],
      [await parity.meshes.post("/rules", createRuleBody(connection, { event: undefined })), 400],
    ] as const;
    for (const [answer, status] of answers) {
      expect(answer.status).toBe(status);
      expectShape(answer.body, errorEnvelope);
    }
  });

  it("another organization's rule is not found, through its own Meshes client", async () => {
    const connection = await newConnection();
    const made = (await parity.meshes.post("/rules", createRuleBody(connection))).body as { rule: { id: string } };
    const stranger = await createTenant(parity.file.server.db, parity.file.server.secretBox, "Stranger");
    const theirs = meshesApi(parity.file.server.baseUrl, stranger.machine);
    expect((await theirs.get(`/rules/${made.rule.id}`)).status).toBe(404);
    expect((await theirs.delete(`/rules/${made.rule.id}`)).status).toBe(404);
    expect((await parity.meshes.get(`/rules/${made.rule.id}`)).status).toBe(200);
  });
});
