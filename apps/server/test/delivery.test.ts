import { createHmac } from "node:crypto";
import { cancelDelivery, cancelEvent, createEventsBulk, deleteRule, retryDelivery, rotateSigningSecret } from "@switchyard/client";
import { sleep, startReceiver, waitFor } from "@switchyard/testing";
import { sql } from "kysely";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { bearer, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import {
  attemptsOf,
  deliveryOf,
  emitEvent,
  eventDetail,
  type RouteOptions,
  routeToReceiver,
  standardWebhookHeaders,
} from "./support/webhookRoutes.js";

let server: TestServer;
let tenant: Tenant;

const { closers } = useTestServer({ tenant: "Delivery", worker: {} }, (file) => {
  ({ server, tenant } = file);
});

const route = (event: string, options: RouteOptions = {}) => routeToReceiver(server, tenant, event, { ...options, closers });
const emit = (event: string, fields: { payload?: Record<string, unknown>; resource?: string; resource_id?: string } = {}) =>
  emitEvent(server, tenant, { event, ...fields });
const detail = (id: string) => eventDetail(server, tenant, id);
const settled = (id: string) =>
  waitFor(() => detail(id), { what: `event ${id} to settle`, until: (e) => e.status === "completed" || e.status === "failed" });
const hmacHex = (secret: string, body: Buffer) => createHmac("sha256", Buffer.from(secret, "utf8")).update(body).digest("hex");

describe("delivery", () => {
  it("when an event matches three webhook rules, then each receiver gets it once and the event completes", async () => {
    const hooks = await Promise.all([1, 2, 3].map(() => route("order.placed")));
    const event = await emit("order.placed", { payload: { order: 42 } });
    expect(event.status).toBe("pending");
    const done = await waitFor(() => detail(event.id), { what: "three deliveries", until: (e) => e.status === "completed" });
    expect(done).toMatchObject({ total_rules: 3, completed_count: 3, failed_count: 0 });
    expect(done.rule_events.map((r) => r.status)).toEqual(["completed", "completed", "completed"]);
    for (const { receiver } of hooks) {
      expect(receiver.requests).toHaveLength(1);
      const body = JSON.parse(receiver.requests[0]?.body.toString() ?? "{}");
      expect(body).toMatchObject({ uuid: event.id, event: "order.placed", payload: { order: 42 } });
    }
  });

  it("when a receiver fails twice then succeeds, then three attempts are recorded and the delivery completes", async () => {
    const { receiver, ruleId } = await route("flaky.event", {
      script: [{ status: 500, body: "boom" }, { status: 503 }, { status: 200, body: "ok" }],
    });
    const event = await emit("flaky.event");
    await waitFor(() => detail(event.id), { what: "the third attempt", until: (e) => e.status === "completed" });
    expect(receiver.requests).toHaveLength(3);
    const attempts = await attemptsOf(server, tenant, event.id, ruleId);
    expect(attempts.map((a) => [a.attempt, a.outcome_code, a.http_status])).toEqual([
      [1, "rejected_server_error", 500],
      [2, "rejected_server_error", 503],
      [3, "delivered", 200],
    ]);
    expect(attempts[0]?.response).toMatchObject({ body: "boom" });
    // Standard Webhooks: the same webhook-id on every retry, so receivers can deduplicate.
    expect(new Set(receiver.requests.map((r) => r.headers["webhook-id"])).size).toBe(1);
  });

  it("when receivers answer with NUL bytes in their bodies (which PostgreSQL text refuses), then the attempts are recorded with U+FFFD in their place and nothing is sent twice", async () => {
    const ok = await route("nul.ok", { script: [{ status: 200, body: "ok\u0000done" }] });
    const failing = await route("nul.failing", {
      script: [
        { status: 500, body: "\u0000boom" },
        { status: 200, body: "ok" },
      ],
    });
    const delivered = await emit("nul.ok");
    const retried = await emit("nul.failing");
    for (const id of [delivered.id, retried.id]) {
      await waitFor(() => detail(id), { what: `event ${id} to complete`, until: (e) => e.status === "completed" });
    }
    expect(ok.receiver.requests).toHaveLength(1);
    expect(failing.receiver.requests).toHaveLength(2);
    const [okAttempt] = await attemptsOf(server, tenant, delivered.id, ok.ruleId);
    expect(okAttempt?.response).toMatchObject({ body: "ok\ufffddone" });
    const [first] = await attemptsOf(server, tenant, retried.id, failing.ruleId);
    expect(first?.response).toMatchObject({ body: "\ufffdboom" });
  });
});

describe("routing", () => {
  it("when a rule filters on resource and resource_id, then only matching events are delivered through it", async () => {
    const { receiver, ruleId } = await route("invoice.changed", { filter: { resource: "invoice", resource_id: "i_1" } });
    const matching = await emit("invoice.changed", { resource: "invoice", resource_id: "i_1" });
    const others = [
      await emit("invoice.changed", { resource: "invoice", resource_id: "i_2" }),
      await emit("invoice.changed", { resource: "contact", resource_id: "i_1" }),
      await emit("invoice.changed"),
    ];
    for (const other of others) expect(other.status).toBe("completed");
    for (const other of others) expect(await detail(other.id)).toMatchObject({ total_rules: 0, rule_events: [] });
    await settled(matching.id);
    expect((await deliveryOf(server, tenant, matching.id, ruleId)).status).toBe("completed");
    expect(receiver.requests.map((r) => JSON.parse(r.body.toString()).uuid)).toEqual([matching.id]);
  });

  it("when a rule is deleted, then later events are no longer routed through it while earlier deliveries keep their history", async () => {
    const { receiver, ruleId } = await route("contact.deleted");
    const before = await emit("contact.deleted");
    await settled(before.id);
    expect(
      (await deleteRule({ client: server.client, headers: await bearer(tenant.machine), path: { id: ruleId } })).response?.status,
    ).toBe(200);
    const after = await emit("contact.deleted");
    expect(after.status).toBe("completed");
    expect((await detail(after.id)).total_rules).toBe(0);
    expect(receiver.requests).toHaveLength(1);
    expect((await deliveryOf(server, tenant, before.id, ruleId)).status).toBe("completed");
  });
});

describe("payload modes", () => {
  it("when the connection is wrapped (the default), then the body is the event's envelope with epoch-ms times", async () => {
    const { receiver } = await route("wrapped.event", { metadata: { http_method: "PUT" } });
    const event = await emit("wrapped.event", {
      payload: { email: "ada@example.com", tags: ["a"] },
      resource: "contact",
      resource_id: "c_1",
    });
    await settled(event.id);
    const request = receiver.requests[0];
    expect(request?.method).toBe("PUT");
    expect(request?.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(request?.body.toString() ?? "{}");
    expect(Object.keys(body)).toEqual(["uuid", "event", "resource", "resource_id", "payload", "time_created", "time_sent"]);
    expect(body).toMatchObject({
      uuid: event.id,
      event: "wrapped.event",
      resource: "contact",
      resource_id: "c_1",
      payload: { email: "ada@example.com", tags: ["a"] },
      time_created: Date.parse(event.created_at),
    });
    expect(body.time_sent).toBeGreaterThanOrEqual(body.time_created);
    expect(body.time_sent).toBeLessThanOrEqual(request?.at ?? 0);
    expect(request?.headers["x-meshes-event"]).toBeUndefined();
  });

  it("when the connection is raw, then the body is the payload alone and the event rides in X-Meshes-* headers", async () => {
    const { receiver } = await route("raw.event", { metadata: { payload_mode: "raw" } });
    const payload = { email: "ada@example.com", nested: { n: 1 } };
    const event = await emit("raw.event", { payload, resource: "contact", resource_id: "c/2 ü" });
    await settled(event.id);
    const request = receiver.requests[0];
    expect(request?.body.toString()).toBe(JSON.stringify(payload));
    expect(request?.headers).toMatchObject({
      "x-meshes-event-id": event.id,
      "x-meshes-event": "raw.event",
      "x-meshes-resource": "contact",
      "x-meshes-resource-id": encodeURIComponent("c/2 ü"),
      "x-meshes-workspace": tenant.workspaceId,
      "x-meshes-time-created": String(Date.parse(event.created_at)),
    });
    expect(Number(request?.headers["x-meshes-time-sent"])).toBeGreaterThanOrEqual(Date.parse(event.created_at));
  });

  it("when the connection authenticates with a bearer token, then the receiver gets it and the attempt log shows it redacted", async () => {
    const token = "tok_0123456789abcdef";
    const { receiver, ruleId } = await route("bearer.event", {
      metadata: { auth_scheme: "bearer", headers: { "X-Tenant": "acme" } },
      secrets: { token },
    });
    const event = await emit("bearer.event");
    await settled(event.id);
    expect(receiver.requests[0]?.headers).toMatchObject({ authorization: `Bearer ${token}`, "x-tenant": "acme" });
    const [attempt] = await attemptsOf(server, tenant, event.id, ruleId);
    expect(attempt?.request).toMatchObject({
      method: "POST",
      url: receiver.url,
      headers: { Authorization: "[redacted]", "X-Tenant": "acme" },
    });
    expect(JSON.stringify(attempt)).not.toContain(token);
  });
});

describe("signatures", () => {
  it("when a webhook arrives, then a Standard Webhooks library verifies it with the secret shown at creation, and X-Meshes-Signature is the body's HMAC", async () => {
    const { receiver, signingSecret } = await route("signed.event");
    const event = await emit("signed.event", { payload: { amount: 12.5, note: "café" } });
    await settled(event.id);
    const request = receiver.requests[0];
    if (request === undefined) throw new Error("nothing received");
    const verified = new Webhook(signingSecret).verify(request.body, standardWebhookHeaders(request.headers));
    expect(verified).toMatchObject({ uuid: event.id, payload: { amount: 12.5, note: "café" } });
    expect(request.headers["x-meshes-signature"]).toBe(hmacHex(signingSecret, request.body));
    // A tampered body or another secret does not verify.
    const tampered = Buffer.from(request.body.toString().replace("12.5", "99"));
    expect(() => new Webhook(signingSecret).verify(tampered, standardWebhookHeaders(request.headers))).toThrow();
    const { signingSecret: otherSecret } = await route("unrelated.event");
    expect(() => new Webhook(otherSecret).verify(request.body, standardWebhookHeaders(request.headers))).toThrow();
  });

  it("when the signing secret is rotated, then the next webhook verifies with the new secret and with the old one", async () => {
    const { receiver, connectionId, signingSecret: oldSecret } = await route("rotated.event");
    const rotated = await rotateSigningSecret({ client: server.client, headers: await bearer(tenant.machine), path: { id: connectionId } });
    expect(rotated.response?.status).toBe(201);
    const newSecret = rotated.data?.signing_secret ?? "";
    expect(Date.parse(rotated.data?.previous_expires_at ?? "")).toBeGreaterThan(Date.now() + 23 * 3_600_000);

    const event = await emit("rotated.event");
    await settled(event.id);
    const request = receiver.requests[0];
    if (request === undefined) throw new Error("nothing received");
    const headers = standardWebhookHeaders(request.headers);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(() => new Webhook(newSecret).verify(request.body, headers)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(request.body, headers)).not.toThrow();
    expect(request.headers["x-meshes-signature"]).toBe(`${hmacHex(newSecret, request.body)},${hmacHex(oldSecret, request.body)}`);
  });
});

describe("isolation of destinations", () => {
  it("when one destination hangs, then another's deliveries of events emitted at the same time arrive within a second and ingestion stays fast", async () => {
    // Started here, not through `closers`: closing it ends the hung attempts before the next test.
    const hanging = await startReceiver(["hang"]);
    try {
      const slow = await route("busy.hour", { receiver: hanging });
      const fast = await route("busy.hour");
      const timedEmit = async (name: string) => {
        const started = Date.now();
        const event = await emit(name);
        return { event, started, latencyMs: Date.now() - started };
      };

      const emitted = await Promise.all([1, 2, 3, 4].map(() => timedEmit("busy.hour")));
      await waitFor(() => fast.receiver.requests.length, {
        what: "the fast receiver to get all four",
        until: (n) => n === 4,
        timeoutMs: 5_000,
      });
      await waitFor(() => hanging.requests.length, {
        what: "the hanging receiver to hold all four",
        until: (n) => n === 4,
        timeoutMs: 5_000,
      });
      for (const { event, started } of emitted) {
        const received = fast.receiver.requests.find((r) => JSON.parse(r.body.toString()).uuid === event.id);
        expect(received, `event ${event.id} at the fast receiver`).toBeDefined();
        expect((received?.at ?? Number.POSITIVE_INFINITY) - started).toBeLessThan(1_000);
        await waitFor(() => deliveryOf(server, tenant, event.id, fast.ruleId), {
          what: "the fast delivery to be recorded",
          until: (d) => d.status === "completed",
          timeoutMs: 1_000,
        });
      }

      // Ingestion while the hung attempts are still open, one at a time: each under a second (tens of ms here),
      // where waiting on the hung destination would take its 2 s timeout.
      const during: number[] = [];
      for (let i = 0; i < 5; i += 1) during.push((await timedEmit("quiet.hour")).latencyMs);
      expect(Math.max(...during, ...emitted.map((e) => e.latencyMs))).toBeLessThan(1_000);
      for (const { event } of emitted) expect((await deliveryOf(server, tenant, event.id, slow.ruleId)).status).toBe("processing");

      for (const { event } of emitted) {
        await cancelEvent({ client: server.client, headers: await bearer(tenant.machine), path: { id: event.id } });
      }
    } finally {
      await hanging.close();
    }
  });
});

describe("retry and cancel through the API", () => {
  it("when a failed delivery is retried, then the receiver gets the same webhook again and the delivery completes", async () => {
    const { receiver, ruleId } = await route("retry.me", { script: [{ status: 400, body: "no" }, { status: 200 }] });
    const event = await emit("retry.me");
    expect((await settled(event.id)).status).toBe("failed");
    expect(receiver.requests).toHaveLength(1);

    const retried = await retryDelivery({ client: server.client, headers: await bearer(tenant.machine), path: { id: event.id, ruleId } });
    expect(retried.response?.status).toBe(200);
    expect(retried.data?.status).toBe("pending");
    const done = await waitFor(() => detail(event.id), { what: "the retried delivery", until: (e) => e.status === "completed" });
    expect(done).toMatchObject({ completed_count: 1, failed_count: 0 });
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[1]?.headers["webhook-id"]).toBe(receiver.requests[0]?.headers["webhook-id"]);
    expect(JSON.parse(receiver.requests[1]?.body.toString() ?? "{}")).toMatchObject({ uuid: event.id });
    expect((await attemptsOf(server, tenant, event.id, ruleId)).map((a) => [a.attempt, a.outcome_code, a.http_status])).toEqual([
      [1, "rejected_client_error", 400],
      [2, "delivered", 200],
    ]);
  });

  it("when a retrying delivery is canceled, then no further attempt is made, even after its retry was due", async () => {
    const { receiver, ruleId } = await route("cancel.me", { script: [{ status: 503 }] });
    const event = await emit("cancel.me");
    // The third failure schedules the fourth attempt about 1.8 s later (30 min compressed 1000 times).
    const waiting = await waitFor(() => deliveryOf(server, tenant, event.id, ruleId), {
      what: "the third attempt to fail",
      until: (d) => d.status_detail === "retrying" && d.attempt_count === 3,
    });
    const canceled = await cancelDelivery({ client: server.client, headers: await bearer(tenant.machine), path: { id: event.id, ruleId } });
    expect(canceled.response?.status).toBe(200);
    expect(canceled.data).toMatchObject({ status: "failed", status_detail: "canceled", attempt_count: 3 });
    expect(canceled.data).not.toHaveProperty("next_attempt_at");

    // Time itself is what is under test: nothing may happen until the canceled retry would have run, and a
    // little more, so there is no condition to wait for.
    const dueAt = Date.parse(waiting.next_attempt_at ?? "");
    await sleep(dueAt - Date.now() + 300);
    expect(receiver.requests).toHaveLength(3);
    expect(await attemptsOf(server, tenant, event.id, ruleId)).toHaveLength(3);
    expect(await detail(event.id)).toMatchObject({ status: "failed", status_detail: "canceled", completed_count: 0, failed_count: 0 });
  });

  it("when a hanging destination has more deliveries than the worker has job slots, then it holds only its cap and others are served at once", async () => {
    const hanging = await startReceiver(["hang"]);
    try {
      const flooded = await route("flood.event", { receiver: hanging });
      const healthy = await route("calm.event");
      // 20 at once, each in its own request: more than the test worker's 8 job slots and its per-connection cap of 16.
      const flood = await Promise.all(Array.from({ length: 20 }, () => emit("flood.event")));
      await waitFor(() => hanging.requests.length, {
        what: "the hanging receiver to hold its cap",
        until: (n) => n >= 16,
        timeoutMs: 5_000,
      });

      const started = Date.now();
      const calm = await emit("calm.event");
      await waitFor(() => healthy.receiver.requests.length, { what: "the healthy receiver", until: (n) => n === 1, timeoutMs: 5_000 });
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(JSON.parse(healthy.receiver.requests[0]?.body.toString() ?? "{}").uuid).toBe(calm.id);
      // The cap holds: the four beyond it wait their turn instead of opening more connections.
      expect(hanging.requests.length).toBe(16);
      // They wait for the connection's drain job, not for a job per batch that found the connection full.
      const { rows: waiting } = await sql<{ key: string | null; locked: boolean }>`
        select j.key, j.locked_at is not null as locked from graphile_worker.jobs j
        join graphile_worker._private_jobs p on p.id = j.id
        where j.task_identifier = 'deliver' and (
          p.payload ->> 'connection' = ${flooded.connectionId}
          or exists (select 1 from rule_events re where re.connection_id = ${flooded.connectionId} and p.payload::jsonb -> 'rule_events' ? re.id::text))`.execute(
        server.db,
      );
      expect(waiting.length).toBeGreaterThan(0);
      // One waiting drain job; a second only while the first runs (and schedules the next).
      expect(waiting.filter((j) => !j.locked)).toHaveLength(1);
      expect(waiting.every((j) => j.key === `drain:${flooded.connectionId}`)).toBe(true);

      for (const event of flood)
        await cancelEvent({ client: server.client, headers: await bearer(tenant.machine), path: { id: event.id } });
    } finally {
      await hanging.close();
    }
  });

  it("when one batch carries more deliveries to one connection than its cap, then the rest are deferred and all arrive promptly", async () => {
    const burst = await route("burst.event");
    const body = Array.from({ length: 60 }, (_, i) => ({ event: "burst.event", payload: { i } }));
    const { data } = await createEventsBulk({
      client: server.client,
      headers: { "X-Meshes-Publishable-Key": tenant.publishableKey },
      body,
    });
    expect(data?.error_count).toBe(0);
    // 60 deliveries in one job, 16 at a time at most: the other 44 go through the deferral path.
    await waitFor(() => burst.receiver.requests.length, { what: "all 60 at the receiver", until: (n) => n === 60, timeoutMs: 5_000 });
    const ids = data?.records.flatMap((r) => (r.type === "event" ? [r.id] : [])) ?? [];
    for (const id of ids)
      await waitFor(() => eventDetail(server, tenant, id), {
        what: `event ${id}`,
        until: (e) => e.status === "completed",
        timeoutMs: 2_000,
      });
  });
});
