import { type EventInput, EventsClient, SwitchyardApiError } from "@switchyard/client";
import { freePort } from "@switchyard/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createTenant, storedEvents, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

let server: TestServer;

useTestServer({}, (file) => {
  ({ server } = file);
});

/** A fetch that counts requests and the largest batch sent. */
function countingFetch() {
  const stats = { requests: 0, largestBatch: 0 };
  const counted: typeof fetch = async (input, init) => {
    stats.requests += 1;
    const request = input instanceof Request ? input : new Request(input, init);
    const body: unknown = JSON.parse(await request.clone().text());
    if (Array.isArray(body)) stats.largestBatch = Math.max(stats.largestBatch, body.length);
    return fetch(request);
  };
  return { stats, fetch: counted };
}

const events = (count: number, from = 0): EventInput[] =>
  Array.from({ length: count }, (_, i) => ({
    event: "order.placed",
    resource: "order",
    resource_id: `o_${from + i}`,
    payload: { i: from + i },
  }));

describe("EventsClient", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant(server.db, server.secretBox, "Client");
  });

  it("when 250 events are emitted with a publishable key, then they go in 3 requests of at most 100 and all 250 are stored, answered in input order", async () => {
    const { stats, fetch } = countingFetch();
    const client = new EventsClient({ baseUrl: server.baseUrl, publishableKey: tenant.publishableKey, fetch });
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const result = await client.emitBatch(events(250));
    expect(stats).toEqual({ requests: 3, largestBatch: 100 });
    expect(result.count).toBe(250);
    expect(result.error_count).toBe(0);
    expect(result.records.map((r) => r.index)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(result.records.map((r) => (r.type === "event" ? r.resource_id : null))).toEqual(events(250).map((e) => e.resource_id));
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before + 250);
  });

  it("when some of 250 events are invalid, then their records are errors at their own input index", async () => {
    const batch = events(250, 1000);
    for (const i of [5, 150, 249]) batch[i] = { event: "", payload: {} };
    const client = new EventsClient({ baseUrl: server.baseUrl, publishableKey: tenant.publishableKey });
    const result = await client.emitBatch(batch);
    expect(result.error_count).toBe(3);
    expect(result.records.flatMap((r) => (r.type === "error" ? [r.index] : []))).toEqual([5, 150, 249]);
    expect(result.records.every((r, i) => r.index === i)).toBe(true);
  });

  it("when machine credentials are used, then each request carries a fresh token and events land in the default workspace", async () => {
    const client = new EventsClient({ baseUrl: server.baseUrl, machine: tenant.machine, workspace: tenant.workspaceId });
    const result = await client.emitBatch(events(120, 2000));
    expect(result.error_count).toBe(0);
    expect(result.records.every((r) => r.type === "event" && r.created_by === tenant.machine.accessKey)).toBe(true);
    const single = await client.emit({ event: "one", payload: {} });
    expect(single.workspace).toBe(tenant.workspaceId);
  });

  it("when emit is refused, then it rejects with SwitchyardApiError carrying the status and envelope", async () => {
    const client = new EventsClient({ baseUrl: server.baseUrl, publishableKey: tenant.publishableKey });
    const refusal = await client.emit({ event: "", payload: {} }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(SwitchyardApiError);
    expect(refusal).toMatchObject({ status: 400, error: { name: "ValidationError" } });
  });

  it("when a whole request is refused, then each of its items is an error record with the request's error", async () => {
    const client = new EventsClient({ baseUrl: server.baseUrl, publishableKey: `${tenant.publishableKey.slice(0, -4)}0000` });
    const result = await client.emitBatch(events(3));
    expect(result.error_count).toBe(3);
    expect(result.records.map((r) => (r.type === "error" ? `${r.message}/${r.error.name}` : r.type))).toEqual([
      "Unauthorized/Unauthorized",
      "Unauthorized/Unauthorized",
      "Unauthorized/Unauthorized",
    ]);
  });

  it("when the server cannot be reached, then emitBatch answers every item with a NetworkError record instead of throwing", async () => {
    const client = new EventsClient({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      publishableKey: tenant.publishableKey,
      retry: { attempts: 2, baseDelayMs: 10 },
    });
    const result = await client.emitBatch(events(2));
    expect(result.records).toEqual([
      expect.objectContaining({
        type: "error",
        index: 0,
        message: "Network Error",
        error: expect.objectContaining({ name: "NetworkError" }),
      }),
      expect.objectContaining({ type: "error", index: 1, error: expect.objectContaining({ name: "NetworkError" }) }),
    ]);
  });

  it("when no events are given, then nothing is sent", async () => {
    const { stats, fetch } = countingFetch();
    const client = new EventsClient({ baseUrl: server.baseUrl, publishableKey: tenant.publishableKey, fetch });
    expect(await client.emitBatch([])).toEqual({ count: 0, error_count: 0, records: [] });
    expect(stats.requests).toBe(0);
  });
});
