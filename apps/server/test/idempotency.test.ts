import { createEvent, createEventsBulk, type EventInput, EventsClient } from "@switchyard/client";
import { freePort, waitFor } from "@switchyard/testing";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { purgeExpiredIdempotencyKeys } from "../src/ingest/idempotencyKeys.repository.js";
import { createTenant, storedEvents, type Tenant } from "./support/fixtures.js";
import { startResponseDroppingProxy } from "./support/responseDroppingProxy.js";
import { startTestServer, type TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

let server: TestServer;
let databaseUrl: string;

useTestServer({}, (file) => {
  ({ server, databaseUrl } = file);
});

let counter = 0;
const uniqueKey = () => {
  counter += 1;
  return `key-${Date.now()}-${counter}`;
};
const event = (key: string, n = 1): EventInput => ({
  event: "order.placed",
  resource: "order",
  resource_id: `o_${n}`,
  payload: { n },
  idempotency_key: key,
});

describe("idempotency keys", () => {
  let tenant: Tenant;
  const pub = () => ({ "X-Meshes-Publishable-Key": tenant.publishableKey });
  beforeAll(async () => {
    tenant = await createTenant(server.db, server.secretBox, "Idem");
  });

  it("when a batch is sent twice with the same keys, then the repeat returns the original events marked duplicate and stores nothing", async () => {
    const body = [event(uniqueKey(), 1), event(uniqueKey(), 2), { event: "no.key", payload: {} }];
    const first = await createEventsBulk({ client: server.client, headers: pub(), body });
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const second = await createEventsBulk({ client: server.client, headers: pub(), body });
    expect(second.response?.status).toBe(201);
    const [a, b, c] = second.data?.records ?? [];
    const [a0, b0, c0] = first.data?.records ?? [];
    expect(a).toEqual({ ...a0, duplicate: true });
    expect(b).toEqual({ ...b0, duplicate: true });
    expect(c?.type === "event" && c0?.type === "event" && c.id !== c0.id).toBe(true);
    expect(c).not.toHaveProperty("duplicate");
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before + 1);
  });

  it("when a key is reused with a different event, then the item is an IdempotencyConflict and nothing is stored", async () => {
    const key = uniqueKey();
    const original = await createEventsBulk({ client: server.client, headers: pub(), body: [event(key, 1)] });
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const { data, response } = await createEventsBulk({
      client: server.client,
      headers: pub(),
      body: [event(key, 2), event(uniqueKey(), 3)],
    });
    expect(response?.status).toBe(207);
    const originalId = original.data?.records[0]?.type === "event" ? original.data.records[0].id : "";
    expect(data?.records[0]).toEqual({
      type: "error",
      index: 0,
      message: "Conflict",
      error: {
        name: "IdempotencyConflict",
        message: "This idempotency key was already used with a different event.",
        data: [{ param: "idempotency_key", msg: `was used for event ${originalId} with a different body` }],
      },
    });
    expect(data?.records[1]?.type).toBe("event");
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before + 1);

    const single = await createEvent({ client: server.client, headers: pub(), body: event(key, 4) });
    expect(single.response?.status).toBe(409);
    expect(single.error?.error.name).toBe("IdempotencyConflict");
  });

  it("when a key is reused with the same payload in another key order, then it is a duplicate, in one batch or across two", async () => {
    const key = uniqueKey();
    const sent = { event: "order.placed", payload: { a: 1, b: { c: [1, 2], d: null } }, idempotency_key: key };
    const reordered = { event: "order.placed", payload: { b: { d: null, c: [1, 2] }, a: 1 }, idempotency_key: key };
    const first = await createEventsBulk({ client: server.client, headers: pub(), body: [sent, reordered] });
    expect(first.data?.records.map((r) => (r.type === "event" ? Boolean(r.duplicate) : r.error.name))).toEqual([false, true]);
    const again = await createEvent({ client: server.client, headers: pub(), body: reordered });
    expect(again.response?.status).toBe(201);
    expect(again.data?.event.duplicate).toBe(true);
    const changed = await createEvent({
      client: server.client,
      headers: pub(),
      body: { ...reordered, payload: { a: 1, b: { c: [2, 1], d: null } } },
    });
    // Refused as documented: 409 in the error envelope, naming the conflict (a caller retries nothing after it).
    expect(changed.response?.status).toBe(409);
    expect(changed.error).toMatchObject({
      message: "Conflict",
      error: { name: "IdempotencyConflict", message: "This idempotency key was already used with a different event." },
    });
  });

  it("when POST /events carries an Idempotency-Key header, then a repeat is a duplicate, and a body key that disagrees is a 400", async () => {
    const key = uniqueKey();
    const body = { event: "signup", payload: { email: "a@example.com" } };
    const first = await createEvent({ client: server.client, headers: { ...pub(), "Idempotency-Key": key }, body });
    const again = await createEvent({ client: server.client, headers: { ...pub(), "Idempotency-Key": key }, body });
    expect(first.response?.status).toBe(201);
    expect(again.response?.status).toBe(201);
    expect(again.data?.event).toEqual({ ...first.data?.event, duplicate: true });
    const viaBody = await createEvent({ client: server.client, headers: pub(), body: { ...body, idempotency_key: key } });
    expect(viaBody.data?.event.id).toBe(first.data?.event.id);
    const mismatch = await createEvent({
      client: server.client,
      headers: { ...pub(), "Idempotency-Key": key },
      body: { ...body, idempotency_key: "other" },
    });
    expect(mismatch.response?.status).toBe(400);
    expect(mismatch.error?.error.data?.[0]?.param).toBe("idempotency_key");
  });

  it("when one batch repeats a key, then the repeat answers as a duplicate of the first use, or a conflict if it differs", async () => {
    const same = uniqueKey();
    const differs = uniqueKey();
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const { data } = await createEventsBulk({
      client: server.client,
      headers: pub(),
      body: [event(same, 1), event(same, 1), event(differs, 1), event(differs, 2)],
    });
    const [first, repeat, other, conflict] = data?.records ?? [];
    expect(first?.type === "event" && repeat?.type === "event" && repeat.id === first.id && repeat.duplicate).toBe(true);
    expect(other?.type).toBe("event");
    expect(conflict?.type === "error" && conflict.error.name).toBe("IdempotencyConflict");
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before + 2);
  });

  it("when the same key arrives in 12 concurrent requests, then exactly one event is stored and every answer names it", async () => {
    const key = uniqueKey();
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? createEventsBulk({ client: server.client, headers: pub(), body: [event(key, 7)] }).then((r) => r.data?.records[0])
          : createEvent({ client: server.client, headers: pub(), body: event(key, 7) }).then((r) => r.data?.event),
      ),
    );
    const ids = new Set(answers.map((a) => (a && "id" in a ? a.id : undefined)));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(answers.filter((a) => a && "duplicate" in a && a.duplicate)).toHaveLength(11);
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(before + 1);
  });

  it("when two workspaces use the same key, then each gets its own event", async () => {
    const other = await createTenant(server.db, server.secretBox, "Idem2");
    const key = uniqueKey();
    const a = await createEvent({ client: server.client, headers: pub(), body: event(key) });
    const b = await createEvent({ client: server.client, headers: { "X-Meshes-Publishable-Key": other.publishableKey }, body: event(key) });
    expect(b.data?.event.duplicate).toBeUndefined();
    expect(b.data?.event.id).not.toBe(a.data?.event.id);
  });

  it("when a key has expired, then it is used afresh, and the purge removes expired keys", async () => {
    const key = uniqueKey();
    const first = await createEvent({ client: server.client, headers: pub(), body: event(key) });
    await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = ${key}`.execute(server.db);
    const second = await createEvent({ client: server.client, headers: pub(), body: event(key, 99) });
    expect(second.response?.status).toBe(201);
    expect(second.data?.event.duplicate).toBeUndefined();
    expect(second.data?.event.id).not.toBe(first.data?.event.id);

    const stale = uniqueKey();
    await createEvent({ client: server.client, headers: pub(), body: event(stale) });
    await sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = ${stale}`.execute(server.db);
    expect(await purgeExpiredIdempotencyKeys(server.db, 1000)).toBeGreaterThanOrEqual(1);
    const left = await sql<{ n: number }>`select count(*)::int as n from idempotency_keys where key = ${stale}`.execute(server.db);
    expect(left.rows[0]?.n).toBe(0);
  });
});

describe("EventsClient retries", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant(server.db, server.secretBox, "Retry");
  });

  it("when the first response is lost after the server committed, then the retry stores nothing twice", async () => {
    const proxy = await startResponseDroppingProxy(new URL(server.baseUrl), 1);
    try {
      const client = new EventsClient({ baseUrl: proxy.url, publishableKey: tenant.publishableKey, retry: { baseDelayMs: 10 } });
      const batch = Array.from({ length: 30 }, (_, i) => ({ event: "lost.response", payload: { i } }));
      const result = await client.emitBatch(batch);
      expect(proxy.dropped()).toBe(1);
      expect(result.error_count).toBe(0);
      expect(result.records.every((r) => r.type === "event" && r.duplicate === true)).toBe(true);
      const stored = await storedEvents(server.db, tenant.workspaceId);
      expect(stored.filter((e) => e.event === "lost.response")).toHaveLength(30);
    } finally {
      await proxy.close();
    }
  });

  it("when the server is not reachable at first, then emit retries past the refused connections until it is", async () => {
    const port = await freePort();
    /** Each attempt's fate: the answer's status, or the network error's code. */
    const attempts: string[] = [];
    const client = new EventsClient({
      baseUrl: `http://127.0.0.1:${port}`,
      publishableKey: tenant.publishableKey,
      retry: { attempts: 20, baseDelayMs: 20, maxDelayMs: 100 },
      fetch: async (input, init) => {
        try {
          const response = await fetch(input, init);
          attempts.push(String(response.status));
          return response;
        } catch (error) {
          attempts.push((error as { cause?: { code?: string } }).cause?.code ?? String(error));
          throw error;
        }
      },
    });
    const emitted = client.emit({ event: "late.server", payload: {} });
    // The way in opens only after the first attempts have failed with connection refused.
    await waitFor(() => attempts.length, { what: "two attempts to be refused", until: (n) => n >= 2 });
    const door = await startResponseDroppingProxy(new URL(server.baseUrl), 0, port);
    try {
      expect((await emitted).event).toBe("late.server");
    } finally {
      await door.close();
    }
    // Every attempt before the door opened was refused, and the one after it was answered 201.
    expect(new Set(attempts.slice(0, -1))).toEqual(new Set(["ECONNREFUSED"]));
    expect(attempts.slice(0, 2)).toEqual(["ECONNREFUSED", "ECONNREFUSED"]);
    expect(attempts.at(-1)).toBe("201");
  });

  it("when the answer is a 400, then it is not retried", async () => {
    let requests = 0;
    const client = new EventsClient({
      baseUrl: server.baseUrl,
      publishableKey: tenant.publishableKey,
      fetch: (input, init) => {
        requests += 1;
        return fetch(input, init);
      },
    });
    await expect(client.emit({ event: "", payload: {} })).rejects.toMatchObject({ status: 400 });
    expect(requests).toBe(1);
  });

  it("when the rate limit answers 429 with Retry-After, then the client waits and the batch gets through", async () => {
    const limited = await startTestServer(databaseUrl, { rateLimit: { eventsPerSecond: 100, burst: 100, store: "memory" } });
    try {
      let statuses: number[] = [];
      const client = new EventsClient({
        baseUrl: limited.baseUrl,
        publishableKey: tenant.publishableKey,
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          statuses = [...statuses, response.status];
          return response;
        },
      });
      const started = performance.now();
      const result = await client.emitBatch(Array.from({ length: 150 }, (_, i) => ({ event: "limited", payload: { i } })));
      expect(result.error_count).toBe(0);
      expect(statuses).toContain(429);
      expect(statuses.at(-1)).toBe(201);
      expect(performance.now() - started).toBeGreaterThanOrEqual(500);
    } finally {
      await limited.close();
    }
  });
});
