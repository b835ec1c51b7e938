import {
  cancelDelivery,
  cancelEvent,
  createEvent,
  createEventsBulk,
  createWorkspace,
  type EventInput,
  type EventStatusDetail,
  getEvent,
  getEventPayload,
  listDeliveryAttempts,
  listEvents,
  listWorkspaceEvents,
  replayFailedDeliveries,
  retryDelivery,
} from "@switchyard/client";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { uuidv7 } from "../src/ids.js";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import { routeQueuedEvents } from "./support/routing.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

let server: TestServer;
let stranger: Tenant;

useTestServer({}, async (file) => {
  ({ server } = file);
  stranger = await createTenant(server.db, server.secretBox, "Stranger");
});

// No delivery worker runs here: routes are made with SQL, events go through the ingestion API and the test
// drains the routing outbox (so their deliveries exist), and delivery states are driven by SQL updates of
// rule_events.status, whose trigger keeps the events' counters in step.

async function createConnection(workspaceId: string): Promise<string> {
  const id = uuidv7();
  await sql`
    insert into connections (id, workspace_id, integration_type, name, metadata, secrets_ciphertext, created_by)
    values (${id}, ${workspaceId}, 'webhook', 'hook', ${JSON.stringify({ url: "https://example.com/hook" })}::jsonb, 'sealed', 'test')`.execute(
    server.db,
  );
  return id;
}

async function createRule(workspaceId: string, connectionId: string, event: string): Promise<string> {
  const id = uuidv7();
  await sql`
    insert into rules (id, workspace_id, connection_id, event, metadata)
    values (${id}, ${workspaceId}, ${connectionId}, ${event}, ${JSON.stringify({ action: "send_webhook" })}::jsonb)`.execute(server.db);
  return id;
}

async function emit(tenant: Tenant, input: Omit<EventInput, "payload"> & { payload?: EventInput["payload"] }): Promise<string> {
  const { data, response } = await createEvent({
    client: server.client,
    headers: await bearer(tenant.machine),
    body: { payload: {}, workspace: tenant.workspaceId, ...input },
  });
  expect(response?.status).toBe(201);
  await routeQueuedEvents(server.db, server.pool);
  return data?.event.id ?? "";
}

async function emitMany(tenant: Tenant, inputs: readonly EventInput[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < inputs.length; i += 100) {
    const body = inputs.slice(i, i + 100).map((input) => ({ workspace: tenant.workspaceId, ...input }));
    const { data, response } = await createEventsBulk({ client: server.client, headers: await bearer(tenant.machine), body });
    expect(response?.status).toBe(201);
    for (const record of data?.records ?? []) if (record.type === "event") ids.push(record.id);
  }
  await routeQueuedEvents(server.db, server.pool);
  return ids;
}

interface StoredRuleEvent {
  id: string;
  status: EventStatusDetail;
  attempt_count: number;
  retry_base: number;
  next_attempt_at: Date | null;
  completed_at: Date | null;
  last_error: string | null;
}

async function ruleEventOf(eventId: string, ruleId: string): Promise<StoredRuleEvent> {
  const { rows } = await sql<StoredRuleEvent>`
    select id, status, attempt_count, retry_base, next_attempt_at, completed_at, last_error
    from rule_events where event_id = ${eventId} and rule_id = ${ruleId}`.execute(server.db);
  const [row] = rows;
  if (row === undefined) throw new Error(`no rule event for event ${eventId} and rule ${ruleId}`);
  return row;
}

/** Moves a delivery as the worker would (the trigger follows); a final status gets its completion time. */
async function setStatus(
  ruleEventId: string,
  status: EventStatusDetail,
  extra: { attemptCount?: number; lastError?: string } = {},
): Promise<void> {
  await sql`
    update rule_events set status = ${status},
      attempt_count = coalesce(${extra.attemptCount ?? null}::int, attempt_count),
      last_error = coalesce(${extra.lastError ?? null}::text, last_error),
      completed_at = case when ${status} in ('completed', 'failed', 'canceled') then now() end
    where id = ${ruleEventId}`.execute(server.db);
}

/** A new event whose delivery through `ruleId` is in `status` (with `attemptCount` attempts unless pending); the rule event as it was made. */
async function deliveryIn(
  tenant: Tenant,
  event: string,
  ruleId: string,
  status: EventStatusDetail,
  attemptCount = 1,
): Promise<{ id: string; ruleEvent: StoredRuleEvent }> {
  const id = await emit(tenant, { event });
  const ruleEvent = await ruleEventOf(id, ruleId);
  if (status !== "pending") await setStatus(ruleEvent.id, status, { attemptCount });
  return { id, ruleEvent };
}

/**
 * Calls `act` (retry or cancel) on a new delivery in `status`; expects the refusal's status and error body, and
 * the delivery left as it was.
 */
async function expectRefusedUnchanged(
  tenant: Tenant,
  event: string,
  ruleId: string,
  status: EventStatusDetail,
  act: typeof retryDelivery | typeof cancelDelivery,
  refusal: { readonly status: number; readonly body: Record<string, unknown> },
): Promise<{ id: string; ruleEvent: StoredRuleEvent }> {
  const delivery = await deliveryIn(tenant, event, ruleId, status);
  const before = await ruleEventOf(delivery.id, ruleId);
  const { error, response } = await act({
    client: server.client,
    headers: await bearer(tenant.machine),
    path: { id: delivery.id, ruleId },
  });
  expect(response?.status).toBe(refusal.status);
  expect(error).toMatchObject(refusal.body);
  expect(await ruleEventOf(delivery.id, ruleId)).toEqual(before);
  return delivery;
}

/** The delivery's own job, if queued. The public `jobs` view omits payloads, so they are read from the table behind it. */
async function keyedJob(ruleEventId: string): Promise<{ task_identifier: string; payload: unknown; run_at: Date } | undefined> {
  const { rows } = await sql<{ task_identifier: string; payload: unknown; run_at: Date }>`
    select j.task_identifier, p.payload, j.run_at
    from graphile_worker.jobs j join graphile_worker._private_jobs p on p.id = j.id
    where j.key = ${`deliver:${ruleEventId}`}`.execute(server.db);
  return rows[0];
}

async function counters(eventId: string) {
  const { rows } = await sql<{
    status: string;
    total_rules: number;
    completed_count: number;
    failed_count: number;
    canceled_count: number;
  }>`
    select status, total_rules, completed_count, failed_count, canceled_count from events where id = ${eventId}`.execute(server.db);
  return rows[0];
}

/** A tenant with one webhook connection and one rule per named event. */
async function routedTenant(name: string, events: readonly string[]) {
  const tenant = await createTenant(server.db, server.secretBox, name);
  const connectionId = await createConnection(tenant.workspaceId);
  const rules: Record<string, string> = {};
  for (const event of events) rules[event] = await createRule(tenant.workspaceId, connectionId, event);
  return { tenant, connectionId, rules };
}

describe("GET /api/v1/events", () => {
  it("when pages are walked while new events arrive, then every earlier event appears exactly once, newest first", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "Pager");
    const auth = () => bearer(tenant.machine);
    const earlier = await emitMany(
      tenant,
      Array.from({ length: 8 }, (_, n) => ({ event: "page.test", payload: { n } })),
    );

    const seen: string[] = [];
    const first = await listEvents({ client: server.client, headers: await auth(), query: { limit: 3 } });
    expect(first.response?.status).toBe(200);
    expect(first.data).toMatchObject({ count: 3, limit: 3 });
    seen.push(...(first.data?.records.map((r) => r.id) ?? []));
    const arrived = await emitMany(tenant, [
      { event: "page.test", payload: { late: 1 } },
      { event: "page.test", payload: { late: 2 } },
    ]);

    let cursor = first.data?.next_cursor ?? null;
    while (cursor !== null) {
      const page = await listEvents({ client: server.client, headers: await auth(), query: { limit: 3, cursor } });
      expect(page.response?.status).toBe(200);
      seen.push(...(page.data?.records.map((r) => r.id) ?? []));
      cursor = page.data?.next_cursor ?? null;
    }
    expect(seen).toEqual([...earlier].reverse());

    const fresh = await listEvents({ client: server.client, headers: await auth(), query: { limit: 3 } });
    expect(fresh.data?.records.map((r) => r.id).slice(0, 2)).toEqual([...arrived].reverse());
  });

  it("when no limit is given, then a page holds 50 and says so", async () => {
    const tenant = await createTenant(server.db, server.secretBox, "Fifty");
    await emitMany(
      tenant,
      Array.from({ length: 51 }, (_, n) => ({ event: "fifty", payload: { n } })),
    );
    const { data } = await listEvents({ client: server.client, headers: await bearer(tenant.machine) });
    expect(data).toMatchObject({ count: 50, limit: 50 });
    expect(data?.next_cursor).toEqual(expect.any(String));
  });

  describe("filters", () => {
    let tenant: Tenant;
    let secondWorkspace: string;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      const routed = await routedTenant("Filters", ["invoice.paid"]);
      tenant = routed.tenant;
      const created = await createWorkspace({ client: server.client, headers: await bearer(tenant.machine), body: { name: "Second" } });
      secondWorkspace = created.data?.workspace.id ?? "";
      ids.contact = await emit(tenant, { event: "contact.created", resource: "contact", resource_id: "c_1" });
      ids.otherContact = await emit(tenant, { event: "contact.created", resource: "contact", resource_id: "c_2" });
      ids.invoice = await emit(tenant, { event: "invoice.paid", resource: "invoice", resource_id: "i_1" });
      ids.second = await emit(tenant, { event: "contact.created", workspace: secondWorkspace });
      // The invoice has a delivery; failing it fails the event.
      await setStatus((await ruleEventOf(ids.invoice, routed.rules["invoice.paid"] ?? "")).id, "failed");
    });

    it.each([
      ["event", { event: "invoice.paid" }, ["invoice"]],
      ["status", { status: "failed" as const }, ["invoice"]],
      ["status with no match", { status: "processing" as const }, []],
      ["resource", { resource: "contact" }, ["otherContact", "contact"]],
      ["resource_id", { resource_id: "c_2" }, ["otherContact"]],
      ["event and resource_id together", { event: "contact.created", resource_id: "c_1" }, ["contact"]],
    ])("when filtered by %s, then only the matching events are listed, newest first", async (_case, query, expected) => {
      const { data, response } = await listEvents({ client: server.client, headers: await bearer(tenant.machine), query });
      expect(response?.status).toBe(200);
      expect(data?.records.map((r) => r.id)).toEqual(expected.map((key) => ids[key]));
    });

    it("when filtered by workspace, then only that workspace's events are listed, on both list endpoints", async () => {
      const auth = await bearer(tenant.machine);
      const byFilter = await listEvents({ client: server.client, headers: auth, query: { workspace: secondWorkspace } });
      expect(byFilter.data?.records.map((r) => r.id)).toEqual([ids.second]);
      const byPath = await listWorkspaceEvents({ client: server.client, headers: auth, path: { id: tenant.workspaceId } });
      expect(byPath.data?.records.map((r) => r.id)).toEqual([ids.invoice, ids.otherContact, ids.contact]);
      const filtered = await listWorkspaceEvents({
        client: server.client,
        headers: auth,
        path: { id: tenant.workspaceId },
        query: { resource: "invoice" },
      });
      expect(filtered.data?.records.map((r) => r.id)).toEqual([ids.invoice]);
    });

    it("when an event is listed, then it carries its delivery counters", async () => {
      const { data } = await listEvents({ client: server.client, headers: await bearer(tenant.machine), query: { event: "invoice.paid" } });
      expect(data?.records[0]).toMatchObject({
        id: ids.invoice,
        type: "event",
        workspace: tenant.workspaceId,
        status: "failed",
        total_rules: 1,
        completed_count: 0,
        failed_count: 1,
      });
      expect(data?.records[0]?.completed_at).toEqual(expect.any(String));
    });
  });

  it.each([
    ["a cursor this API did not make", { cursor: "bm90LWEtY3Vyc29y" }, "cursor"],
    ["a limit of 0", { limit: 0 }, "limit"],
    ["a limit over 200", { limit: 201 }, "limit"],
    ["an unknown status", { status: "lost" as EventStatusDetail }, "status"],
  ])("when the query has %s, then it answers 400 naming it", async (_case, query, param) => {
    const { error, response } = await listEvents({ client: server.client, headers: await bearer(stranger.machine), query });
    expect(response?.status).toBe(400);
    expect(error?.error.data?.map((d) => d.param)).toContain(param);
  });

  it("when a publishable key asks, then it answers 401: history needs a machine token", async () => {
    const { response } = await listEvents({ client: server.client, headers: { "X-Meshes-Publishable-Key": stranger.publishableKey } });
    expect(response?.status).toBe(401);
  });
});

describe("GET /api/v1/events/{id} and its payload", () => {
  it("when an event matched two rules, then it answers the event with both deliveries and counters that follow them", async () => {
    const { tenant, connectionId, rules } = await routedTenant("Detail", ["order.placed"]);
    const secondRule = await createRule(tenant.workspaceId, connectionId, "order.placed");
    const firstRule = rules["order.placed"] ?? "";
    const id = await emit(tenant, { event: "order.placed", resource: "order", resource_id: "o_1", payload: { total: 42 } });
    const auth = await bearer(tenant.machine);

    const pending = await getEvent({ client: server.client, headers: auth, path: { id } });
    expect(pending.response?.status).toBe(200);
    expect(pending.data).toMatchObject({
      id,
      type: "event",
      workspace: tenant.workspaceId,
      event: "order.placed",
      resource: "order",
      resource_id: "o_1",
      status: "pending",
      created_by: tenant.machine.accessKey,
      total_rules: 2,
      completed_count: 0,
      failed_count: 0,
    });
    // Meshes leaves out what has not happened yet, rather than answering null.
    expect(pending.data).not.toHaveProperty("started_at");
    expect(pending.data).not.toHaveProperty("completed_at");
    expect(pending.data?.rule_events.map((r) => r.rule).sort()).toEqual([firstRule, secondRule].sort());
    for (const ruleEvent of pending.data?.rule_events ?? []) {
      expect(ruleEvent).toMatchObject({
        type: "rule",
        event_id: id,
        connection: connectionId,
        integration_type: "webhook",
        status: "pending",
        attempt_count: 0,
        workspace: tenant.workspaceId,
        event: "order.placed",
        resource: "order",
        resource_id: "o_1",
        created_by: tenant.machine.accessKey,
      });
      expect(ruleEvent).not.toHaveProperty("completed_at");
      expect(ruleEvent).not.toHaveProperty("last_error");
    }

    await setStatus((await ruleEventOf(id, firstRule)).id, "processing");
    const started = await getEvent({ client: server.client, headers: auth, path: { id } });
    expect(started.data).toMatchObject({ status: "processing", completed_count: 0 });
    expect(started.data?.started_at).toEqual(expect.any(String));

    await setStatus((await ruleEventOf(id, firstRule)).id, "completed", { attemptCount: 1 });
    await setStatus((await ruleEventOf(id, secondRule)).id, "failed", { attemptCount: 8, lastError: "HTTP 500" });
    const done = await getEvent({ client: server.client, headers: auth, path: { id } });
    expect(done.data).toMatchObject({ status: "failed", total_rules: 2, completed_count: 1, failed_count: 1 });
    expect(done.data?.completed_at).toEqual(expect.any(String));
    expect(done.data?.rule_events.find((r) => r.rule === secondRule)).toMatchObject({
      status: "failed",
      attempt_count: 8,
      last_error: "HTTP 500",
    });

    const payload = await getEventPayload({ client: server.client, headers: auth, path: { id } });
    expect(payload.response?.status).toBe(200);
    // Meshes' shape: the event as GET /events/{id} shows it, without its deliveries, and its payload.
    const { rule_events: _deliveries, ...event } = done.data ?? { rule_events: [] };
    expect(payload.data).toEqual({ ...event, payload: { total: 42 } });
  });

  it("when the event does not exist, then both answer 404", async () => {
    const auth = await bearer(stranger.machine);
    const id = uuidv7();
    expect((await getEvent({ client: server.client, headers: auth, path: { id } })).response?.status).toBe(404);
    expect((await getEventPayload({ client: server.client, headers: auth, path: { id } })).response?.status).toBe(404);
  });
});

describe("GET /api/v1/events/{id}/rules/{ruleId}/attempts", () => {
  it("when a delivery was attempted twice, then it answers both attempts oldest first, with what was sent and what came back", async () => {
    const { tenant, rules } = await routedTenant("Attempts", ["ping"]);
    const ruleId = rules.ping ?? "";
    const id = await emit(tenant, { event: "ping" });
    const ruleEvent = await ruleEventOf(id, ruleId);
    const started = new Date("2026-01-01T00:00:00.000Z");
    const at = (ms: number) => new Date(started.getTime() + ms);
    const request = { method: "POST", url: "https://example.com/hook", headers: { "content-type": "application/json" }, body_bytes: 120 };
    // Inserted newest first, to show that the answer is ordered, not merely stored in order.
    await sql`
      insert into delivery_attempts (id, rule_event_id, attempt, outcome_code, http_status, duration_ms, request, response_headers,
        response_body, error, next_attempt_at, started_at, completed_at)
      values
        (${uuidv7()}, ${ruleEvent.id}, 2, 'delivered', 200, 80, ${JSON.stringify(request)}::jsonb, ${JSON.stringify({ "content-type": "text/plain" })}::jsonb,
          'ok', null, null, ${at(5000)}, ${at(5080)}),
        (${uuidv7()}, ${ruleEvent.id}, 1, 'network_error', null, 15000, ${JSON.stringify(request)}::jsonb, 'null'::jsonb,
          null, 'connect ECONNREFUSED', ${at(20000)}, ${at(0)}, ${at(15000)})`.execute(server.db);

    const { data, response } = await listDeliveryAttempts({
      client: server.client,
      headers: await bearer(tenant.machine),
      path: { id, ruleId },
    });
    expect(response?.status).toBe(200);
    expect(data?.count).toBe(2);
    expect(data?.records).toEqual([
      {
        id: expect.any(String),
        type: "attempt",
        attempt: 1,
        outcome_code: "network_error",
        http_status: null,
        duration_ms: 15000,
        started_at: at(0).toISOString(),
        completed_at: at(15000).toISOString(),
        next_attempt_at: at(20000).toISOString(),
        error: "connect ECONNREFUSED",
        request,
        response: null,
      },
      {
        id: expect.any(String),
        type: "attempt",
        attempt: 2,
        outcome_code: "delivered",
        http_status: 200,
        duration_ms: 80,
        started_at: at(5000).toISOString(),
        completed_at: at(5080).toISOString(),
        next_attempt_at: null,
        error: null,
        request,
        response: { headers: { "content-type": "text/plain" }, body: "ok" },
      },
    ]);
  });

  it("when the rule did not route the event, then it answers 404", async () => {
    const { tenant } = await routedTenant("NoRoute", ["ping"]);
    const id = await emit(tenant, { event: "ping" });
    const { response } = await listDeliveryAttempts({
      client: server.client,
      headers: await bearer(tenant.machine),
      path: { id, ruleId: uuidv7() },
    });
    expect(response?.status).toBe(404);
  });
});

describe("POST /api/v1/events/{id}/rules/{ruleId}/retry", () => {
  let tenant: Tenant;
  let ruleId: string;

  beforeAll(async () => {
    const routed = await routedTenant("Retry", ["retry.me"]);
    tenant = routed.tenant;
    ruleId = routed.rules["retry.me"] ?? "";
  });

  it("when the delivery failed, then it is queued now on a fresh schedule, with its own job, and the event follows", async () => {
    const id = await emit(tenant, { event: "retry.me" });
    const before = await ruleEventOf(id, ruleId);
    await setStatus(before.id, "failed", { attemptCount: 8, lastError: "HTTP 503" });
    expect(await counters(id)).toMatchObject({ status: "failed", failed_count: 1 });

    const { data, response } = await retryDelivery({ client: server.client, headers: await bearer(tenant.machine), path: { id, ruleId } });
    expect(response?.status).toBe(200);
    expect(data).toMatchObject({
      id: before.id,
      type: "rule",
      event_id: id,
      rule: ruleId,
      status: "pending",
      attempt_count: 8,
    });
    expect(data).not.toHaveProperty("completed_at");
    expect(data).not.toHaveProperty("last_error");
    expect(data?.next_attempt_at).toEqual(expect.any(String));

    const after = await ruleEventOf(id, ruleId);
    expect(after).toMatchObject({ status: "pending", attempt_count: 8, retry_base: 8, completed_at: null, last_error: null });
    const job = await keyedJob(before.id);
    expect(job).toMatchObject({ task_identifier: "deliver", payload: { rule_events: [before.id] } });
    expect(job?.run_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(await counters(id)).toMatchObject({ status: "pending", failed_count: 0, completed_count: 0 });
  });

  it.each(["completed", "canceled"] as const)("when the delivery is %s, then it is delivered again", async (status) => {
    const { id, ruleEvent } = await deliveryIn(tenant, "retry.me", ruleId, status);
    const { data, response } = await retryDelivery({ client: server.client, headers: await bearer(tenant.machine), path: { id, ruleId } });
    expect(response?.status).toBe(200);
    expect(data?.status).toBe("pending");
    expect(await keyedJob(ruleEvent.id)).toBeDefined();
    expect(await counters(id)).toMatchObject({ status: "pending", completed_count: 0, canceled_count: 0 });
  });

  it.each(["pending", "processing", "retrying"] as const)(
    "when the delivery is %s, then it answers 425 and changes nothing",
    async (status) => {
      const { ruleEvent } = await expectRefusedUnchanged(tenant, "retry.me", ruleId, status, retryDelivery, {
        status: 425,
        body: { message: "Too Early", error: { name: "TooEarly" } },
      });
      expect(await keyedJob(ruleEvent.id)).toBeUndefined();
    },
  );

  it("when two retries race, then one queues the delivery and the other answers 425", async () => {
    const { id, ruleEvent } = await deliveryIn(tenant, "retry.me", ruleId, "failed", 2);
    const auth = await bearer(tenant.machine);
    const answers = await Promise.all([
      retryDelivery({ client: server.client, headers: auth, path: { id, ruleId } }),
      retryDelivery({ client: server.client, headers: auth, path: { id, ruleId } }),
    ]);
    expect(answers.map((a) => a.response?.status).sort()).toEqual([200, 425]);
    const { rows } = await sql`select 1 from graphile_worker.jobs where key = ${`deliver:${ruleEvent.id}`}`.execute(server.db);
    expect(rows).toHaveLength(1);
  });

  it("when the event or the rule is unknown, then it answers 404", async () => {
    const id = await emit(tenant, { event: "retry.me" });
    const auth = await bearer(tenant.machine);
    expect((await retryDelivery({ client: server.client, headers: auth, path: { id: uuidv7(), ruleId } })).response?.status).toBe(404);
    expect((await retryDelivery({ client: server.client, headers: auth, path: { id, ruleId: uuidv7() } })).response?.status).toBe(404);
  });
});

describe("POST /api/v1/events/{id}/rules/{ruleId}/cancel", () => {
  let tenant: Tenant;
  let ruleId: string;

  beforeAll(async () => {
    const routed = await routedTenant("Cancel", ["cancel.me"]);
    tenant = routed.tenant;
    ruleId = routed.rules["cancel.me"] ?? "";
  });

  it.each(["pending", "processing", "retrying"] as const)(
    "when the delivery is %s, then it is canceled and the event follows",
    async (status) => {
      const { id, ruleEvent } = await deliveryIn(tenant, "cancel.me", ruleId, status);
      const { data, response } = await cancelDelivery({
        client: server.client,
        headers: await bearer(tenant.machine),
        path: { id, ruleId },
      });
      expect(response?.status).toBe(200);
      expect(data).toMatchObject({ id: ruleEvent.id, type: "rule", status: "failed", status_detail: "canceled" });
      expect(data).not.toHaveProperty("next_attempt_at");
      expect(data?.completed_at).toEqual(expect.any(String));
      expect(await counters(id)).toMatchObject({ status: "canceled", canceled_count: 1 });
    },
  );

  it("when the delivery waits for its retry job, then canceling removes the job", async () => {
    const { id, ruleEvent } = await deliveryIn(tenant, "cancel.me", ruleId, "failed");
    const auth = await bearer(tenant.machine);
    expect((await retryDelivery({ client: server.client, headers: auth, path: { id, ruleId } })).response?.status).toBe(200);
    expect(await keyedJob(ruleEvent.id)).toBeDefined();

    const { response } = await cancelDelivery({ client: server.client, headers: auth, path: { id, ruleId } });
    expect(response?.status).toBe(200);
    expect(await keyedJob(ruleEvent.id)).toBeUndefined();
    expect((await ruleEventOf(id, ruleId)).status).toBe("canceled");
  });

  it.each(["completed", "failed", "canceled"] as const)(
    "when the delivery is already %s, then it answers 409 and changes nothing",
    async (status) => {
      await expectRefusedUnchanged(tenant, "cancel.me", ruleId, status, cancelDelivery, {
        status: 409,
        body: { message: "Conflict", error: { name: "Conflict" } },
      });
    },
  );

  it("when the event or the rule is unknown, then it answers 404", async () => {
    const id = await emit(tenant, { event: "cancel.me" });
    const auth = await bearer(tenant.machine);
    expect((await cancelDelivery({ client: server.client, headers: auth, path: { id: uuidv7(), ruleId } })).response?.status).toBe(404);
    expect((await cancelDelivery({ client: server.client, headers: auth, path: { id, ruleId: uuidv7() } })).response?.status).toBe(404);
    expect((await ruleEventOf(id, ruleId)).status).toBe("pending");
  });
});

describe("POST /api/v1/events/{id}/cancel", () => {
  it("when some deliveries have finished, then only the others are canceled and the event is answered as it now is", async () => {
    const { tenant, connectionId, rules } = await routedTenant("CancelEvent", ["bundle"]);
    const ruleIds = [
      rules.bundle ?? "",
      await createRule(tenant.workspaceId, connectionId, "bundle"),
      await createRule(tenant.workspaceId, connectionId, "bundle"),
    ];
    const id = await emit(tenant, { event: "bundle" });
    const [done, running, waiting] = await Promise.all(ruleIds.map((ruleId) => ruleEventOf(id, ruleId)));
    await setStatus(done?.id ?? "", "completed", { attemptCount: 1 });
    await setStatus(running?.id ?? "", "processing", { attemptCount: 1 });
    await setStatus(waiting?.id ?? "", "retrying", { attemptCount: 2 });

    const { data, response } = await cancelEvent({ client: server.client, headers: await bearer(tenant.machine), path: { id } });
    expect(response?.status).toBe(200);
    const statusOf = (ruleEventId: string | undefined) => data?.rule_events.find((r) => r.id === ruleEventId)?.status_detail;
    expect([statusOf(done?.id), statusOf(running?.id), statusOf(waiting?.id)]).toEqual(["completed", "canceled", "canceled"]);
    // Every delivery has ended and none failed: the event is complete (the trigger's rule).
    expect(data).toMatchObject({ id, total_rules: 3, completed_count: 1, failed_count: 0, status: "completed" });
    expect(data?.completed_at).toEqual(expect.any(String));
    expect(await counters(id)).toMatchObject({ canceled_count: 2 });

    const again = await cancelEvent({ client: server.client, headers: await bearer(tenant.machine), path: { id } });
    expect(again.response?.status).toBe(200);
    expect(again.data?.rule_events.map((r) => r.status_detail).sort()).toEqual(["canceled", "canceled", "completed"]);
  });

  it("when every delivery is waiting, then the event is canceled", async () => {
    const { tenant } = await routedTenant("CancelAll", ["all"]);
    const id = await emit(tenant, { event: "all" });
    const { data } = await cancelEvent({ client: server.client, headers: await bearer(tenant.machine), path: { id } });
    expect(data).toMatchObject({
      status: "failed",
      status_detail: "canceled",
      rule_events: [expect.objectContaining({ status: "failed", status_detail: "canceled" })],
    });

    // Meshes' `failed` takes in our `canceled`; `canceled` alone selects only it; `processing` does not.
    const listed = async (status: EventStatusDetail) =>
      (await listEvents({ client: server.client, headers: await bearer(tenant.machine), query: { status } })).data?.records.map(
        (e) => e.id,
      );
    expect(await listed("failed")).toEqual([id]);
    expect(await listed("canceled")).toEqual([id]);
    expect(await listed("processing")).toEqual([]);
  });

  it("when the event is unknown, then it answers 404", async () => {
    const { response } = await cancelEvent({ client: server.client, headers: await bearer(stranger.machine), path: { id: uuidv7() } });
    expect(response?.status).toBe(404);
  });
});

describe("POST /api/v1/replays", () => {
  let tenant: Tenant;
  let connectionId: string;
  let otherConnection: string;
  let failedIds: string[];
  let otherFailed: string;

  beforeAll(async () => {
    const routed = await routedTenant("Replay", ["sync"]);
    tenant = routed.tenant;
    connectionId = routed.connectionId;
    otherConnection = await createConnection(tenant.workspaceId);
    await createRule(tenant.workspaceId, otherConnection, "sync.other");
    const events = await emitMany(tenant, [
      { event: "sync", payload: { n: 1 } },
      { event: "sync", payload: { n: 2 } },
      { event: "sync", payload: { n: 3 } },
      { event: "sync", payload: { n: 4 } },
      { event: "sync.other", payload: { n: 5 } },
    ]);
    const { rows } = await sql<{ id: string; event_id: string }>`
      select id, event_id from rule_events where workspace_id = ${tenant.workspaceId} order by event_id`.execute(server.db);
    const ruleEventIds = rows.map((r) => r.id);
    // Two failed in the window, one failed before it, one completed; the other connection's one failed.
    for (const ruleEventId of ruleEventIds.slice(0, 3)) await setStatus(ruleEventId, "failed", { attemptCount: 8 });
    await setStatus(ruleEventIds[3] ?? "", "completed", { attemptCount: 1 });
    await setStatus(ruleEventIds[4] ?? "", "failed", { attemptCount: 8 });
    await sql`update rule_events set created_at = now() - interval '3 hours' where id = ${ruleEventIds[2] ?? ""}`.execute(server.db);
    failedIds = ruleEventIds.slice(0, 2);
    otherFailed = ruleEventIds[4] ?? "";
    expect(events).toHaveLength(5);
  });

  const hourAgo = () => new Date(Date.now() - 3600_000).toISOString();
  const statuses = async (ids: readonly string[]) =>
    (await sql<{ status: string }>`select status from rule_events where id = any(${ids}::uuid[]) order by id`.execute(server.db)).rows.map(
      (r) => r.status,
    );

  it("when it is a dry run (the default), then it counts the failed deliveries in the window and changes nothing", async () => {
    const auth = await bearer(tenant.machine);
    const byDefault = await replayFailedDeliveries({
      client: server.client,
      headers: auth,
      body: { connection: connectionId, from: hourAgo() },
    });
    expect(byDefault.response?.status).toBe(200);
    expect(byDefault.data).toEqual({ count: 2, dry_run: true });
    const byWorkspace = await replayFailedDeliveries({
      client: server.client,
      headers: auth,
      body: { workspace: tenant.workspaceId, from: hourAgo(), dry_run: true },
    });
    expect(byWorkspace.data).toEqual({ count: 3, dry_run: true });
    expect(await statuses([...failedIds, otherFailed])).toEqual(["failed", "failed", "failed"]);
  });

  it("when it is real, then it queues exactly the deliveries the dry run counted, each with its job", async () => {
    const auth = await bearer(tenant.machine);
    const { data, response } = await replayFailedDeliveries({
      client: server.client,
      headers: auth,
      body: { connection: connectionId, from: hourAgo(), to: new Date(Date.now() + 1000).toISOString(), dry_run: false },
    });
    expect(response?.status).toBe(200);
    expect(data).toEqual({ count: 2, dry_run: false });
    expect(await statuses(failedIds)).toEqual(["pending", "pending"]);
    for (const id of failedIds) expect(await keyedJob(id)).toMatchObject({ task_identifier: "deliver", payload: { rule_events: [id] } });
    expect(await statuses([otherFailed])).toEqual(["failed"]);
    const { rows } = await sql<{ retry_base: number }>`select retry_base from rule_events where id = any(${failedIds}::uuid[])`.execute(
      server.db,
    );
    expect(rows.map((r) => r.retry_base)).toEqual([8, 8]);

    const again = await replayFailedDeliveries({
      client: server.client,
      headers: auth,
      body: { connection: connectionId, from: hourAgo() },
    });
    expect(again.data).toEqual({ count: 0, dry_run: true });
  });

  it("when more deliveries failed than one batch holds, then every one of them is queued", async () => {
    const { tenant: big, connectionId: bigConnection } = await routedTenant("BigReplay", ["bulk"]);
    await createRule(big.workspaceId, bigConnection, "bulk");
    await emitMany(
      big,
      Array.from({ length: 300 }, (_, n) => ({ event: "bulk", payload: { n } })),
    );
    await sql`update rule_events set status = 'failed', completed_at = now() where workspace_id = ${big.workspaceId}`.execute(server.db);
    const { data } = await replayFailedDeliveries({
      client: server.client,
      headers: await bearer(big.machine),
      body: { workspace: big.workspaceId, from: hourAgo(), dry_run: false },
    });
    expect(data).toEqual({ count: 600, dry_run: false });
    const { rows } = await sql<{ status: string; n: string }>`
      select status, count(*) as n from rule_events where workspace_id = ${big.workspaceId} group by status`.execute(server.db);
    expect(rows).toEqual([{ status: "pending", n: "600" }]);
    const jobs = await sql<{ n: string }>`
      select count(*) as n from graphile_worker.jobs j join rule_events r on j.key = 'deliver:' || r.id
      where r.workspace_id = ${big.workspaceId}`.execute(server.db);
    expect(jobs.rows[0]?.n).toBe("600");
  });

  it.each([
    [
      "the window starts more than 14 days ago",
      () => ({ workspace: tenant.workspaceId, from: new Date(Date.now() - 15 * 86_400_000).toISOString() }),
      ["from"],
    ],
    [
      "the window ends before it starts",
      () => ({ workspace: tenant.workspaceId, from: hourAgo(), to: new Date(Date.now() - 7200_000).toISOString() }),
      ["to"],
    ],
    [
      "both workspace and connection are named",
      () => ({ workspace: tenant.workspaceId, connection: connectionId, from: hourAgo() }),
      ["workspace", "connection"],
    ],
    ["neither workspace nor connection is named", () => ({ from: hourAgo() }), ["workspace", "connection"]],
  ])("when %s, then it answers 400 naming the field and changes nothing", async (_case, body, params) => {
    const { error, response } = await replayFailedDeliveries({
      client: server.client,
      headers: await bearer(tenant.machine),
      body: { ...body(), dry_run: false },
    });
    expect(response?.status).toBe(400);
    expect(error?.error.name).toBe("BadRequest");
    expect(error?.error.data?.map((d) => d.param)).toEqual(params);
    expect(await statuses([otherFailed])).toEqual(["failed"]);
  });

  it("when the workspace or connection is unknown, or the connection deleted, then it answers 404", async () => {
    const auth = await bearer(tenant.machine);
    const deleted = await createConnection(tenant.workspaceId);
    await sql`update connections set deleted_at = now() where id = ${deleted}`.execute(server.db);
    for (const scope of [{ workspace: uuidv7() }, { connection: uuidv7() }, { connection: deleted }]) {
      const { response } = await replayFailedDeliveries({ client: server.client, headers: auth, body: { ...scope, from: hourAgo() } });
      expect(response?.status).toBe(404);
    }
  });
});

describe("another organization's records", () => {
  let owner: Tenant;
  let ruleId: string;
  let connectionId: string;
  let failedEvent: string;
  let pendingEvent: string;

  beforeAll(async () => {
    const routed = await routedTenant("Owner", ["private"]);
    owner = routed.tenant;
    ruleId = routed.rules.private ?? "";
    connectionId = routed.connectionId;
    failedEvent = await emit(owner, { event: "private", payload: { secret: "s3cr3t" } });
    pendingEvent = await emit(owner, { event: "private" });
    await setStatus((await ruleEventOf(failedEvent, ruleId)).id, "failed", { attemptCount: 8 });
    await sql`
      insert into delivery_attempts (id, rule_event_id, attempt, outcome_code, http_status, duration_ms, started_at, completed_at)
      values (${uuidv7()}, ${(await ruleEventOf(failedEvent, ruleId)).id}, 1, 'rejected_server_error', 500, 10, now(), now())`.execute(
      server.db,
    );
  });

  /** Everything a stranger could try to change or learn; taken before and after each attempt. */
  const snapshot = async () => ({
    failed: await ruleEventOf(failedEvent, ruleId),
    pending: await ruleEventOf(pendingEvent, ruleId),
    events: [await counters(failedEvent), await counters(pendingEvent)],
    jobs: (await sql`select id from graphile_worker.jobs where key like ${"deliver:%"} order by id`.execute(server.db)).rows,
  });

  const probes: Array<[string, () => Promise<{ response?: Response | undefined }>]> = [
    [
      "GET /events/{id}",
      async () => getEvent({ client: server.client, headers: await bearer(stranger.machine), path: { id: failedEvent } }),
    ],
    [
      "GET /events/{id}/payload",
      async () => getEventPayload({ client: server.client, headers: await bearer(stranger.machine), path: { id: failedEvent } }),
    ],
    [
      "GET /events?workspace=",
      async () => listEvents({ client: server.client, headers: await bearer(stranger.machine), query: { workspace: owner.workspaceId } }),
    ],
    [
      "GET /workspaces/{id}/events",
      async () => listWorkspaceEvents({ client: server.client, headers: await bearer(stranger.machine), path: { id: owner.workspaceId } }),
    ],
    [
      "GET /events/{id}/rules/{ruleId}/attempts",
      async () =>
        listDeliveryAttempts({ client: server.client, headers: await bearer(stranger.machine), path: { id: failedEvent, ruleId } }),
    ],
    [
      "POST /events/{id}/rules/{ruleId}/retry",
      async () => retryDelivery({ client: server.client, headers: await bearer(stranger.machine), path: { id: failedEvent, ruleId } }),
    ],
    [
      "POST /events/{id}/rules/{ruleId}/cancel",
      async () => cancelDelivery({ client: server.client, headers: await bearer(stranger.machine), path: { id: pendingEvent, ruleId } }),
    ],
    [
      "POST /events/{id}/cancel",
      async () => cancelEvent({ client: server.client, headers: await bearer(stranger.machine), path: { id: pendingEvent } }),
    ],
    [
      "POST /replays by workspace",
      async () =>
        replayFailedDeliveries({
          client: server.client,
          headers: await bearer(stranger.machine),
          body: { workspace: owner.workspaceId, from: new Date(Date.now() - 3600_000).toISOString(), dry_run: false },
        }),
    ],
    [
      "POST /replays by connection",
      async () =>
        replayFailedDeliveries({
          client: server.client,
          headers: await bearer(stranger.machine),
          body: { connection: connectionId, from: new Date(Date.now() - 3600_000).toISOString(), dry_run: false },
        }),
    ],
  ];

  it.each(probes)("when a stranger calls %s with the owner's ids, then it answers 404 and nothing changes", async (_case, probe) => {
    const before = await snapshot();
    const { response } = await probe();
    expect(response?.status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it("when a stranger lists events, then the owner's are not among them", async () => {
    const { data } = await listEvents({ client: server.client, headers: await bearer(stranger.machine), query: { limit: 200 } });
    const listed = data?.records.map((r) => r.id) ?? [];
    expect(listed).not.toContain(failedEvent);
    expect(listed).not.toContain(pendingEvent);
    // The owner does see them, so the ids are real.
    const own = await listEvents({ client: server.client, headers: await bearer(owner.machine), query: { limit: 200 } });
    expect(own.data?.records.map((r) => r.id)).toEqual([pendingEvent, failedEvent]);
  });
});
