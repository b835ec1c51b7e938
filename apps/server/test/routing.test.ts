import { cancelEvent, createRule, deleteRule } from "@switchyard/client";
import { type DeliveryDb, parseRouteJob, type RouteJob, requeueStaleRouting, routeEvents } from "@switchyard/delivery";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createTenant, type Tenant } from "./support/fixtures.js";
import { queuedJobs as queuedJobsOf, routeQueuedEvents } from "./support/routing.js";
import { createTestDatabase } from "./support/testDatabase.js";
import { startTestServer, type TestServer } from "./support/testServer.js";
import { emitEvent, eventDetail, routeToReceiver } from "./support/webhookRoutes.js";

// Ingestion commits each batch with one `route` job; the worker's `routeEvents` writes the deliveries. No
// worker runs here: the test runs the route jobs itself, so it can act between acceptance and routing.

let server: TestServer;
let tenant: Tenant;
let dropDatabase: () => Promise<void>;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  server = await startTestServer(database.url);
  tenant = await createTenant(server.db, server.secretBox, "Routing");
});

afterAll(async () => {
  for (const close of closers) await close();
  await server?.close();
  await dropDatabase?.();
});

const queuedJobs = (task: string) => queuedJobsOf(server.db, task);

async function deliveriesOf(eventId: string): Promise<Array<{ rule_id: string; status: string }>> {
  const { rows } = await sql<{ rule_id: string; status: string }>`
    select rule_id, status from rule_events where event_id = ${eventId} order by rule_id`.execute(server.db);
  return rows;
}

describe("routing after acceptance", () => {
  it("when an event is accepted, then it is pending with its rule count, and one route job names it until routing writes its deliveries", async () => {
    const first = await routeToReceiver(server, tenant, "order.placed", { closers });
    const second = await routeToReceiver(server, tenant, "order.placed", { closers, filter: { resource: "order" } });
    await routeToReceiver(server, tenant, "order.placed", { closers, filter: { resource_id: "o_other" } });
    const event = await emitEvent(server, tenant, { event: "order.placed", resource: "order", resource_id: "o_1" });
    expect(event.status).toBe("pending");
    expect(await eventDetail(server, tenant, event.id)).toMatchObject({ status: "pending", total_rules: 2, rule_events: [] });
    const [job] = await queuedJobs("route");
    expect(parseRouteJob(job?.payload)?.events).toEqual([event.id]);

    expect(await routeQueuedEvents(server.db)).toBe(2);
    expect(await deliveriesOf(event.id)).toEqual([first.ruleId, second.ruleId].sort().map((rule_id) => ({ rule_id, status: "pending" })));
    expect(await queuedJobs("route")).toEqual([]);
  });

  it("when an event matches no rule, then it is completed at once and no route job is queued", async () => {
    const event = await emitEvent(server, tenant, { event: "nobody.listens" });
    expect(event.status).toBe("completed");
    expect(await eventDetail(server, tenant, event.id)).toMatchObject({ status: "completed", total_rules: 0 });
    expect(await queuedJobs("route")).toEqual([]);
  });

  it("when a rule is created after the event was accepted but before it was routed, then it does not apply to it", async () => {
    const before = await routeToReceiver(server, tenant, "invoice.paid", { closers });
    const event = await emitEvent(server, tenant, { event: "invoice.paid" });
    const after = await createRule({
      client: server.client,
      headers: await bearer(tenant.machine),
      body: { connection: before.connectionId, event: "invoice.paid", metadata: { action: "send" } },
    });
    expect(after.response?.status).toBe(201);

    await routeQueuedEvents(server.db);
    expect(await deliveriesOf(event.id)).toEqual([{ rule_id: before.ruleId, status: "pending" }]);
    expect(await eventDetail(server, tenant, event.id)).toMatchObject({ total_rules: 1 });
  });

  it("when a rule is deleted after the event was accepted but before it was routed, then the event is still delivered through it", async () => {
    const route = await routeToReceiver(server, tenant, "invoice.voided", { closers });
    const event = await emitEvent(server, tenant, { event: "invoice.voided" });
    const deleted = await deleteRule({ client: server.client, headers: await bearer(tenant.machine), path: { id: route.ruleId } });
    expect(deleted.response?.status).toBe(204);

    await routeQueuedEvents(server.db);
    expect(await deliveriesOf(event.id)).toEqual([{ rule_id: route.ruleId, status: "pending" }]);
  });

  it("when an event is canceled before it was routed, then it is canceled and routing writes its deliveries canceled, with no job", async () => {
    const route = await routeToReceiver(server, tenant, "cart.abandoned", { closers });
    const event = await emitEvent(server, tenant, { event: "cart.abandoned" });
    const canceled = await cancelEvent({ client: server.client, headers: await bearer(tenant.machine), path: { id: event.id } });
    expect(canceled.data).toMatchObject({ status: "canceled", total_rules: 1, rule_events: [] });

    expect(await routeQueuedEvents(server.db)).toBe(1);
    expect(await deliveriesOf(event.id)).toEqual([{ rule_id: route.ruleId, status: "canceled" }]);
    expect(await eventDetail(server, tenant, event.id)).toMatchObject({ status: "canceled", total_rules: 1 });
  });

  it("when a route job runs twice at once, then each delivery is written once, and every run answers it as pending", async () => {
    await routeToReceiver(server, tenant, "user.signed_up", { closers });
    const event = await emitEvent(server, tenant, { event: "user.signed_up" });
    const [job] = await queuedJobs("route");
    const payload = parseRouteJob(job?.payload) as RouteJob;
    const db = server.db as unknown as DeliveryDb;

    const runs = await Promise.all([routeEvents(db, payload), routeEvents(db, payload)]);
    expect(runs.map((r) => r.routed).sort()).toEqual([0, 1]);
    const deliveries = await sql<{ id: string }>`select id from rule_events where event_id = ${event.id}`.execute(server.db);
    expect(deliveries.rows).toHaveLength(1);
    // Whichever run wrote it, both hand the delivery on (a later claim takes it once).
    for (const run of runs) expect(run.pending).toEqual([deliveries.rows[0]?.id]);
    // A run after the delivery was claimed hands nothing on.
    await sql`update rule_events set status = 'processing' where event_id = ${event.id}`.execute(server.db);
    expect(await routeEvents(db, payload)).toEqual({ routed: 0, pending: [] });
    await sql`delete from graphile_worker._private_jobs`.execute(server.db);
  });

  it("when a route job's worker died with it, then its events get one new route job, and none once they are routed", async () => {
    const route = await routeToReceiver(server, tenant, "order.shipped", { closers });
    const event = await emitEvent(server, tenant, { event: "order.shipped" });
    await sql`
      update graphile_worker._private_jobs set locked_at = now() - interval '1 hour', locked_by = 'worker-that-died'
      where task_id = (select id from graphile_worker._private_tasks where identifier = 'route')`.execute(server.db);
    const db = server.db as unknown as DeliveryDb;

    expect(await requeueStaleRouting(db, 60_000)).toBe(1);
    // A second sweep before the new job ran finds the same job, keyed by the stale one: still one.
    await requeueStaleRouting(db, 60_000);
    const routeJobs = await queuedJobs("route");
    expect(routeJobs).toHaveLength(2);
    expect(routeJobs.map((j) => parseRouteJob(j.payload)?.events)).toEqual([[event.id], [event.id]]);

    expect(await routeQueuedEvents(server.db)).toBe(1);
    expect(await deliveriesOf(event.id)).toEqual([{ rule_id: route.ruleId, status: "pending" }]);
    // Routed: the stale job (still locked) is not given again, and it would write nothing if it ran.
    expect(await requeueStaleRouting(db, 60_000)).toBe(0);
    expect(await queuedJobs("route")).toHaveLength(1);
    expect((await routeEvents(db, parseRouteJob(routeJobs[0]?.payload) as RouteJob)).routed).toBe(0);
    await sql`delete from graphile_worker._private_jobs`.execute(server.db);
  });
});
