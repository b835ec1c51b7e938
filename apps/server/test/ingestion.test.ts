import { type BulkErrorRecord, createEvent, createEventsBulk, type EventInput } from "@switchyard/client";
import { describe, expect, it } from "vitest";
import { bearer, createTenant, storedEvents, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

let server: TestServer;
let tenant: Tenant;

useTestServer({ tenant: "Acme" }, (file) => {
  ({ server, tenant } = file);
});

const pub = () => ({ "X-Meshes-Publishable-Key": tenant.publishableKey });
const event = (n: number): EventInput => ({ event: "contact.created", resource: "contact", resource_id: `c_${n}`, payload: { n } });

describe("POST /api/v1/events", () => {
  it("when a publishable key sends a valid event, then it answers 201 with the stored event", async () => {
    const { data, response } = await createEvent({ client: server.client, headers: pub(), body: event(1) });
    expect(response?.status).toBe(201);
    expect(data?.event).toMatchObject({
      type: "event",
      workspace: tenant.workspaceId,
      event: "contact.created",
      resource: "contact",
      resource_id: "c_1",
      // No rule matches it: nothing to deliver.
      status: "completed",
    });
    expect(data?.event.created_by).toMatch(/^mesh_pub_/);
    const stored = await storedEvents(server.db, tenant.workspaceId);
    expect(stored.find((e) => e.id === data?.event.id)?.payload).toEqual({ n: 1 });
  });

  it("when a machine token sends an event naming its workspace, then it answers 201 created by the access key", async () => {
    const { data, response } = await createEvent({
      client: server.client,
      headers: await bearer(tenant.machine),
      body: { ...event(2), workspace: tenant.workspaceId },
    });
    expect(response?.status).toBe(201);
    expect(data?.event.created_by).toBe(tenant.machine.accessKey);
  });

  it.each([
    ["the event name is missing", { payload: {} }, "event"],
    ["the payload is an array", { event: "a", payload: [1] }, "payload"],
    ["the event name is empty", { event: "", payload: {} }, "event"],
    ["the event name has a control character", { event: "a\nb", payload: {} }, "event"],
    ["an unknown field is sent", { event: "a", payload: {}, extra: 1 }, "extra"],
    ["the workspace is not a uuid", { event: "a", payload: {}, workspace: "nope" }, "workspace"],
    ["the payload holds U+0000", { event: "a", payload: { s: "x\u0000y" } }, "payload"],
    ["the payload holds a lone surrogate", { event: "a", payload: { s: "x\ud800y" } }, "payload"],
  ])("when %s, then it answers 400 naming the field and stores nothing", async (_case, body, param) => {
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const { error, response } = await createEvent({ client: server.client, headers: pub(), body: body as EventInput });
    expect(response?.status).toBe(400);
    expect(error).toMatchObject({ message: "Bad Request", error: { name: "ValidationError" } });
    expect(error?.error.data?.map((d) => d.param)).toContain(param);
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before);
  });

  it("when the body is not JSON, then it answers 400 in the envelope", async () => {
    const { error, response } = await createEvent({
      client: server.client,
      headers: pub(),
      body: event(3),
      bodySerializer: () => '{"event": "a", "payload": {',
    });
    expect(response?.status).toBe(400);
    expect(error).toEqual({ message: "Bad Request", error: { name: "BadRequest", message: "The request body is not valid JSON." } });
  });

  it("when the content type is not JSON, then it answers 400 in the envelope", async () => {
    const { error, response } = await createEvent({
      client: server.client,
      headers: { ...pub(), "Content-Type": "text/plain" },
      body: event(4),
    });
    expect(response?.status).toBe(400);
    expect(error?.error.name).toBe("BadRequest");
  });

  it("when a machine token sends an event without a workspace, then it answers 400 naming workspace", async () => {
    const { error, response } = await createEvent({ client: server.client, headers: await bearer(tenant.machine), body: event(5) });
    expect(response?.status).toBe(400);
    expect(error?.error.data).toEqual([{ param: "workspace", msg: "is required with a machine token" }]);
  });

  it("when the workspace is named in upper case, then it is the same workspace", async () => {
    const { data, response } = await createEvent({
      client: server.client,
      headers: await bearer(tenant.machine),
      body: { ...event(9), workspace: tenant.workspaceId.toUpperCase() },
    });
    expect(response?.status).toBe(201);
    expect(data?.event.workspace).toBe(tenant.workspaceId);
  });

  it("when a publishable key names another workspace, then it answers 403", async () => {
    const other = await createTenant(server.db, server.secretBox, "Other");
    const { error, response } = await createEvent({
      client: server.client,
      headers: pub(),
      body: { ...event(6), workspace: other.workspaceId },
    });
    expect(response?.status).toBe(403);
    expect(error?.error.name).toBe("Forbidden");
    expect(await storedEvents(server.db, other.workspaceId)).toHaveLength(0);
  });

  it.each([
    ["no credential", {}],
    ["a malformed publishable key", { "X-Meshes-Publishable-Key": "pk_live_123" }],
    ["a well-formed but unknown publishable key", { "X-Meshes-Publishable-Key": "mesh_pub_ws_key_secret" }],
    ["a bearer token that is not a JWT", { Authorization: "Bearer nonsense" }],
    ["a non-bearer authorization", { Authorization: "Basic dXNlcjpwYXNz" }],
  ])("when the request carries %s, then it answers 401 in the envelope", async (_case, headers) => {
    const { error, response } = await createEvent({ client: server.client, headers, body: event(7) });
    expect(response?.status).toBe(401);
    expect(error?.message).toBe("Unauthorized");
    expect(error?.error.name).toBe("Unauthorized");
  });

  it("when the publishable key's secret part is wrong, then it answers 401", async () => {
    const forged = tenant.publishableKey.replace(/_[^_]+$/, "_0000");
    const { response } = await createEvent({ client: server.client, headers: { "X-Meshes-Publishable-Key": forged }, body: event(8) });
    expect(response?.status).toBe(401);
  });

  it("when the body is over 1 MiB, then it answers 413 in the envelope", async () => {
    const { error, response } = await createEvent({
      client: server.client,
      headers: pub(),
      body: { event: "big", payload: { blob: "x".repeat(1024 * 1024) } },
    });
    expect(response?.status).toBe(413);
    expect(error).toMatchObject({ message: "Payload Too Large", error: { name: "PayloadTooLarge" } });
  });

  it("when the payload serializes over 64 KiB, then it answers 400 naming payload", async () => {
    const { error, response } = await createEvent({
      client: server.client,
      headers: pub(),
      body: { event: "big", payload: { blob: "x".repeat(64 * 1024) } },
    });
    expect(response?.status).toBe(400);
    expect(error?.error.data?.[0]?.param).toBe("payload");
  });
});

describe("POST /api/v1/events/bulk", () => {
  it("when every item is valid, then it answers 201 with one event record per item, in order", async () => {
    const body = [event(10), event(11), event(12)];
    const { data, response } = await createEventsBulk({ client: server.client, headers: pub(), body });
    expect(response?.status).toBe(201);
    expect(data).toMatchObject({ count: 3, error_count: 0 });
    expect(data?.records.map((r) => [r.type, r.index, r.type === "event" ? r.resource_id : null])).toEqual([
      ["event", 0, "c_10"],
      ["event", 1, "c_11"],
      ["event", 2, "c_12"],
    ]);
  });

  it("when some items are invalid, then it answers 207, records[i] answers item i, and only valid items are stored", async () => {
    const before = await storedEvents(server.db, tenant.workspaceId);
    const body = [
      event(20),
      { event: "missing.payload" },
      event(21),
      null,
      { event: "nul", payload: { k: "\u0000" } },
      { event: "deep", payload: JSON.parse(`${"[".repeat(100)}1${"]".repeat(100)}`.replace(/^\[/, '{"a":[').replace(/\]$/, "]}")) },
      event(22),
      42,
    ] as EventInput[];
    const { data, response } = await createEventsBulk({ client: server.client, headers: pub(), body });
    expect(response?.status).toBe(207);
    expect(data?.count).toBe(8);
    expect(data?.error_count).toBe(5);
    expect(data?.records.map((r) => `${r.index}:${r.type}`)).toEqual([
      "0:event",
      "1:error",
      "2:event",
      "3:error",
      "4:error",
      "5:error",
      "6:event",
      "7:error",
    ]);
    const missing = data?.records[1] as BulkErrorRecord;
    expect(missing).toEqual({
      type: "error",
      index: 1,
      message: "Bad Request",
      error: {
        name: "ValidationError",
        message: "The event is invalid.",
        data: [{ param: "payload", msg: "must have required property 'payload'" }],
      },
    });
    const after = await storedEvents(server.db, tenant.workspaceId);
    const added = after.filter((e) => !before.some((b) => b.id === e.id));
    expect(added.map((e) => (e.payload as { n: number }).n).sort()).toEqual([20, 21, 22]);
    const acceptedIds = data?.records.flatMap((r) => (r.type === "event" ? [r.id] : []));
    expect(added.map((e) => e.id).sort()).toEqual(acceptedIds?.sort());
  });

  it("when every item is rejected, then it answers 207 with error_count equal to count and stores nothing", async () => {
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const body = [{ payload: {} }, { event: "x" }] as unknown as EventInput[];
    const { data, response } = await createEventsBulk({ client: server.client, headers: pub(), body });
    expect(response?.status).toBe(207);
    expect(data).toMatchObject({ count: 2, error_count: 2 });
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before);
  });

  it("when a machine token sends items for its own and another organization's workspaces, then only the foreign ones are rejected", async () => {
    const stranger = await createTenant(server.db, server.secretBox, "Stranger");
    const body = [{ ...event(30), workspace: tenant.workspaceId }, { ...event(31), workspace: stranger.workspaceId }, event(32)];
    const { data, response } = await createEventsBulk({ client: server.client, headers: await bearer(tenant.machine), body });
    expect(response?.status).toBe(207);
    expect(data?.records.map((r) => (r.type === "error" ? r.error.name : r.type))).toEqual(["event", "Forbidden", "ValidationError"]);
    expect(data?.records[1]?.type === "error" && data.records[1].message).toBe("Forbidden");
    expect(await storedEvents(server.db, stranger.workspaceId)).toHaveLength(0);
  });

  it.each([
    ["the array is empty", []],
    ["the body is an object, not an array", { event: "a", payload: {} }],
    ["the array has 101 items", Array.from({ length: 101 }, (_, i) => event(i))],
  ])("when %s, then it answers 400 and stores nothing", async (_case, body) => {
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const { error, response } = await createEventsBulk({ client: server.client, headers: pub(), body: body as EventInput[] });
    expect(response?.status).toBe(400);
    expect(error).toMatchObject({ message: "Bad Request", error: { name: "BadRequest" } });
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before);
  });

  it("when the body is not JSON, then it answers 400", async () => {
    const { error, response } = await createEventsBulk({ client: server.client, headers: pub(), body: [], bodySerializer: () => "[{" });
    expect(response?.status).toBe(400);
    expect(error?.error.name).toBe("BadRequest");
  });

  it("when there is no credential, then it answers 401 before looking at the body", async () => {
    const { error, response } = await createEventsBulk({ client: server.client, body: [] });
    expect(response?.status).toBe(401);
    expect(error?.error.name).toBe("Unauthorized");
  });

  it("when the body is over 1 MiB, then it answers 413 and stores nothing", async () => {
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const body = Array.from({ length: 20 }, (_, i) => ({ event: "big", payload: { i, blob: "y".repeat(60 * 1024) } }));
    const { error, response } = await createEventsBulk({ client: server.client, headers: pub(), body });
    expect(response?.status).toBe(413);
    expect(error?.error.name).toBe("PayloadTooLarge");
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before);
  });

  it("when 100 valid items are sent, then all 100 are stored", async () => {
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const body = Array.from({ length: 100 }, (_, i) => event(1000 + i));
    const { data, response } = await createEventsBulk({ client: server.client, headers: pub(), body });
    expect(response?.status).toBe(201);
    expect(data?.records).toHaveLength(100);
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before + 100);
  });
});

describe("routes", () => {
  it("when a path is not in the API, then it answers 404 in the envelope", async () => {
    const response = await fetch(`${server.baseUrl}/api/v1/nope`, { headers: pub() });
    expect(response?.status).toBe(404);
    expect(await response.json()).toMatchObject({ message: "Not Found", error: { name: "NotFound" } });
  });
});

// Each case here was found by the property-based hostile ingestion suite (test/hostile*.test.ts); see it for the general rule.
describe("hostile input that once failed", () => {
  it("when a payload number overflows a double (1e400), then it answers 400 naming payload instead of storing null", async () => {
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const { error, response } = await createEvent({
      client: server.client,
      headers: pub(),
      body: event(40),
      bodySerializer: () => '{"event":"overflow","payload":{"n":1e400}}',
    });
    expect(response?.status).toBe(400);
    expect(error?.error.data?.map((d) => d.param)).toEqual(["payload"]);
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before);
  });

  it.each([
    ["gzip", Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from("{}")])],
    ["deflate", Buffer.from([0x78, 0xff, 1, 2, 3])],
    ["br", Buffer.from([0xff, 0xff, 0xff, 1])],
  ])("when a %s body does not inflate, then it answers 400 in the envelope, not 500", async (encoding, body) => {
    const response = await fetch(`${server.baseUrl}/api/v1/events`, {
      method: "POST",
      headers: { ...pub(), "Content-Type": "application/json", "Content-Encoding": encoding },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      message: "Bad Request",
      error: { name: "BadRequest", message: "The request body could not be read." },
    });
  });

  it("when a publishable key names its own workspace in upper case, then the event is accepted", async () => {
    const { data, response } = await createEvent({
      client: server.client,
      headers: pub(),
      body: { ...event(41), workspace: tenant.workspaceId.toUpperCase() },
    });
    expect(response?.status).toBe(201);
    expect(data?.event.workspace).toBe(tenant.workspaceId);
  });

  it.each([
    ["a machine token names its workspace as urn:uuid:…", async () => bearer(tenant.machine), { workspace: "urn:uuid:" }, "workspace"],
    ["an idempotency key holds U+0000", async () => pub(), { idempotency_key: "k\u0000" }, "idempotency_key"],
    ["an idempotency key holds a lone surrogate", async () => pub(), { idempotency_key: "k\ud800" }, "idempotency_key"],
  ])("when %s, then only that item is rejected (naming %s) and the rest of the batch is stored", async (_case, headers, odd, param) => {
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const ws = { workspace: tenant.workspaceId };
    const strange = "workspace" in odd ? { workspace: `urn:uuid:${tenant.workspaceId}` } : { ...odd, ...ws };
    const body = [
      { ...event(42), ...ws },
      { ...event(43), ...strange },
      { ...event(44), ...ws },
    ] as EventInput[];
    const { data, response } = await createEventsBulk({ client: server.client, headers: await headers(), body });
    expect(response?.status).toBe(207);
    expect(data?.records.map((r) => r.type)).toEqual(["event", "error", "event"]);
    const rejected = data?.records[1] as BulkErrorRecord;
    expect(rejected.error.data?.map((d) => d.param)).toEqual([param]);
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before + 2);
  });
});
