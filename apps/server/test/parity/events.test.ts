import { startReceiver, waitFor } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import type { MeshesAnswer } from "../support/meshesApi.js";
import {
  arrayOf,
  errorEnvelope,
  expectShape,
  integer,
  meshesEvent,
  object,
  page,
  ruleEvent,
  string,
  timestamp,
  uuid,
} from "../support/meshesShapes.js";
import { useMeshesParity } from "../support/useMeshesParity.js";

/**
 * Meshes' MCP tools that emit and inspect events (src/tools/events.ts and deliveries.ts: meshes_emit_event,
 * meshes_emit_bulk_events, meshes_list_events, meshes_get_workspace_events, meshes_get_event,
 * meshes_get_event_payload, meshes_retry_event_rule), sent as its client sends them, against a server with a
 * delivery worker.
 */
const parity = useMeshesParity({ worker: {} });
const unknownId = "0192f0c5-0000-7000-8000-00000000dead";

/** What meshes_emit_event answers: Meshes' client types only these five fields of the event. */
const emitted = object({ event: object({ id: uuid, event: string, workspace: uuid, created_by: string, created_at: timestamp }) });

type EventAnswer = { id: string; status: string; rule_events: Array<{ rule: string; status: string }> };

/** A webhook connection and a rule sending `event` to a receiver answering `script`, made with Meshes' calls. */
async function routeTo(event: string, statuses: number[]): Promise<{ ruleId: string }> {
  const receiver = await startReceiver(statuses.map((status) => ({ status })));
  parity.file.closers.push(receiver.close);
  const workspace = parity.file.tenant.workspaceId;
  const connection = await parity.meshes.post("/connections", {
    workspace,
    type: "webhook",
    name: `hook ${event}`,
    metadata: { url: receiver.url },
  });
  expect(connection.status).toBe(201);
  const connectionId = (connection.body as { connection: { id: string } }).connection.id;
  const made = await parity.meshes.post("/rules", { workspace, connection: connectionId, event, metadata: { action: "send_webhook" } });
  expect(made.status).toBe(201);
  return { ruleId: (made.body as { rule: { id: string } }).rule.id };
}

async function emit(event: string, extra: Record<string, unknown> = {}): Promise<string> {
  const { status, body } = await parity.meshes.post("/events", {
    workspace: parity.file.tenant.workspaceId,
    event,
    payload: { email: "ada@example.com" },
    ...extra,
  });
  expect(status).toBe(201);
  return (body as { event: { id: string } }).event.id;
}

/** meshes_get_event until the event has settled (every delivery ended). */
async function settled(id: string): Promise<MeshesAnswer> {
  return waitFor(() => parity.meshes.get(`/events/${id}`), {
    what: `event ${id} to settle`,
    until: (answer) => ["completed", "failed"].includes((answer.body as EventAnswer).status),
  });
}

describe("Meshes' event tools", () => {
  it("meshes_emit_event: 201 {event} with the fields its client reads", async () => {
    const { status, body } = await parity.meshes.post("/events", {
      workspace: parity.file.tenant.workspaceId,
      event: "user.signup",
      payload: { email: "ada@example.com" },
      resource: "user",
      resource_id: "u_1",
    });
    expect(status).toBe(201);
    expectShape(body, emitted);
  });

  it("meshes_emit_bulk_events: 201 when all are accepted, 207 with a record per item when some are not", async () => {
    const workspace = parity.file.tenant.workspaceId;
    const bulkShape = object({ count: integer, records: arrayOf(object({})) }, { error_count: integer });
    const all = await parity.meshes.post("/events/bulk", [
      { workspace, event: "a.b", payload: {} },
      { workspace, event: "a.c", payload: { email: "x@example.com" }, resource: "user", resource_id: "u_2" },
    ]);
    expect(all.status).toBe(201);
    expectShape(all.body, bulkShape);
    const some = await parity.meshes.post("/events/bulk", [
      { workspace, event: "a.b", payload: {} },
      { workspace: unknownId, event: "a.b", payload: {} },
    ]);
    expect(some.status).toBe(207);
    expectShape(some.body, bulkShape);
    expect(some.body).toMatchObject({ count: 2, error_count: 1 });
  });

  it("meshes_list_events and meshes_get_workspace_events: pages of events, every filter the tools send", async () => {
    const id = await emit("invoice.paid", { resource: "invoice", resource_id: "i_1" });
    const listed = await parity.meshes.get("/events", { limit: 2, cursor: undefined });
    expect(listed.status).toBe(200);
    expectShape(listed.body, page(meshesEvent));
    const next = (listed.body as { next_cursor: string | null }).next_cursor;
    if (next !== null) expectShape((await parity.meshes.get("/events", { limit: 2, cursor: next })).body, page(meshesEvent));

    const filtered = await parity.meshes.get(`/workspaces/${parity.file.tenant.workspaceId}/events`, {
      limit: 50,
      cursor: undefined,
      event: "invoice.paid",
      status: "completed",
      resource: "invoice",
      resource_id: "i_1",
    });
    expect(filtered.status).toBe(200);
    expectShape(filtered.body, page(meshesEvent));
    expect((filtered.body as { records: Array<{ id: string }> }).records.map((e) => e.id)).toEqual([id]);
  });

  it("meshes_get_event and meshes_get_event_payload: the event with its rule events, then with its payload", async () => {
    const { ruleId } = await routeTo("order.placed", [200]);
    const id = await emit("order.placed", { resource: "order", resource_id: "o_1" });
    const detail = await settled(id);
    expect(detail.status).toBe(200);
    expectShape(detail.body, meshesEvent);
    expect(detail.body).toMatchObject({ id, status: "completed", total_rules: 1, completed_count: 1, failed_count: 0 });
    const [delivery] = (detail.body as EventAnswer).rule_events;
    expectShape(delivery, ruleEvent);
    expect(delivery).toMatchObject({ rule: ruleId, event: "order.placed", resource: "order", resource_id: "o_1", status: "completed" });

    const withPayload = await parity.meshes.get(`/events/${id}/payload`);
    expect(withPayload.status).toBe(200);
    expectShape(withPayload.body, meshesEvent);
    expect(withPayload.body).toMatchObject({ id, event: "order.placed", payload: { email: "ada@example.com" } });
  });

  it("meshes_retry_event_rule: a failed delivery is queued again and answered as a rule event; an unfinished one 425", async () => {
    const { ruleId } = await routeTo("payment.failed", [400, 200]);
    const id = await emit("payment.failed");
    expect((await settled(id)).body).toMatchObject({ status: "failed" });

    // Meshes' client sends no body on this POST, but still says Content-Type: application/json.
    const retried = await parity.meshes.post(`/events/${id}/rules/${ruleId}/retry`);
    expect(retried.status).toBe(200);
    expectShape(retried.body, ruleEvent);
    expect(retried.body).toMatchObject({ event_id: id, rule: ruleId, status: "pending" });
    const again = await parity.meshes.post(`/events/${id}/rules/${ruleId}/retry`);
    if (again.status !== 200) {
      expect(again.status).toBe(425);
      expectShape(again.body, errorEnvelope);
    }
    expect((await settled(id)).body).toMatchObject({ status: "completed" });
  });

  it("documented errors: unknown ids 404, a bad status filter 400, an event without a workspace 400, all in the envelope", async () => {
    const answers = [
      [await parity.meshes.get(`/events/${unknownId}`), 404],
      [await parity.meshes.get(`/events/${unknownId}/payload`), 404],
      [await parity.meshes.post(`/events/${unknownId}/rules/${unknownId}/retry`), 404],
      [await parity.meshes.get(`/workspaces/${unknownId}/events`, { limit: 50 }), 404],
      [await parity.meshes.get("/events", { status: "lost" }), 400],
      [await parity.meshes.post("/events", { event: "a", payload: {} }), 400],
    ] as const;
    for (const [answer, status] of answers) {
      expect(answer.status).toBe(status);
      expectShape(answer.body, errorEnvelope);
    }
  });
});
