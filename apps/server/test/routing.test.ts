import { cancelEvent, createRule, deleteRule } from "@switchyard/client";
import { routeOutbox, wakeStaleRouting } from "@switchyard/db";
import { waitFor } from "@switchyard/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { bearer, type Tenant } from "./support/fixtures.js";
import { outboxRows, queuedJobs as queuedJobsOf, routeQueuedEvents } from "./support/routing.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import { emitEvent, eventDetail, routeToReceiver } from "./support/webhookRoutes.js";

// Ingestion commits each batch with one row of the routing outbox, then wakes the worker's `route` task; the
// task's `routeOutbox` writes the deliveries. No worker runs here: the test drains the outbox itself, so it can
// act between acceptance and routing.

let server: TestServer;
let tenant: Tenant;

const { closers } = useTestServer({ tenant: "Routing" }, (file) => {
  ({ server, tenant } = file);
});

const queuedJobs = (task: string) => queuedJobsOf(server.db, task);

async function deliveriesOf(eventId: string): Promise<Array<{ rule_id: string; status: string }>> {
  const { rows } = await sql<{ rule_id: string; status: string }>`
    select rule_id, status from rule_events where event_id = ${eventId} order by rule_id`.execute(server.db);
  return rows;
}

describe("routing after acceptance", () => {
  it("when an event is accepted, then it is pending with its rule count, and one outbox row names it and the rules until routing writes its deliveries", async () => {
    const first = await routeToReceiver(server, tenant, "order.placed", { closers });
    const second = await routeToReceiver(server, tenant, "order.placed", { closers, filter: { resource: "order" } });
    const other = await routeToReceiver(server, tenant, "order.placed", { closers, filter: { resource_id: "o_other" } });
    const event = await emitEvent(server, tenant, { event: "order.placed", resource: "order", resource_id: "o_1" });
    expect(event.status).toBe("pending");
    expect(await eventDetail(server, tenant, event.id)).toMatchObject({ status: "pending", total_rules: 2, rule_events: [] });
    const [row, ...more] = await outboxRows(server.db);
    expect(more).toEqual([]);
    expect(row?.events).toEqual([event.id]);
    // The candidates of the event's workspace and name; routing applies the filters.
    expect(row?.rules.sort()).toEqual([first.ruleId, second.ruleId, other.ruleId].sort());
    // The commit is followed by a wake: a `route` job (one, keyed) for a worker to drain the outbox with.
    const jobs = await waitFor(() => queuedJobs("route"), { what: "the route job of the wake", until: (queued) => queued.length > 0 });
    expect(jobs).toHaveLength(1);

    expect(await routeQueuedEvents(server.db, server.pool)).toBe(2);
    expect(await deliveriesOf(event.id)).toEqual([first.ruleId, second.ruleId].sort().map((rule_id) => ({ rule_id, status: "pending" })));
    expect(await outboxRows(server.db)).toEqual([]);
  });

  it("when an event matches no rule, then it is completed at once and nothing is written for routing", async () => {
    const event = await emitEvent(server, tenant, { event: "nobody.listens" });
    expect(event.status).toBe("completed");
    expect(await eventDetail(server, tenant, event.id)).toMatchObject({ status: "completed", total_rules: 0 });
    expect(await outboxRows(server.db)).toEqual([]);
  });

  it("when a rule is created after the event was accepted but before it was routed, then it does not apply to it", async () => {
    const before = await routeToReceiver(server, tenant, "invoice.paid", { closers });
    const event = await emitEvent(server, tenant, { event: "invoice.paid" });
    const after = await createRule({
      client: server.client,
      headers: await bearer(tenant.machine),
      body: { connection: before.connectionId, event: "invoice.paid", metadata: { action: "send_webhook" } },
    });
    expect(after.response?.status).toBe(201);

    await routeQueuedEvents(server.db, server.pool);
    expect(await deliveriesOf(event.id)).toEqual([{ rule_id: before.ruleId, status: "pending" }]);
    expect(await eventDetail(server, tenant, event.id)).toMatchObject({ total_rules: 1 });
  });

  it("when a rule is deleted after the event was accepted but before it was routed, then the event is still delivered through it", async () => {
    const route = await routeToReceiver(server, tenant, "invoice.voided", { closers });
    const event = await emitEvent(server, tenant, { event: "invoice.voided" });
    const deleted = await deleteRule({ client: server.client, headers: await bearer(tenant.machine), path: { id: route.ruleId } });
    expect(deleted.response?.status).toBe(200);

    await routeQueuedEvents(server.db, server.pool);
    expect(await deliveriesOf(event.id)).toEqual([{ rule_id: route.ruleId, status: "pending" }]);
  });

  it("when an event is canceled before it was routed, then it is canceled and routing writes its deliveries canceled, with no job", async () => {
    const route = await routeToReceiver(server, tenant, "cart.abandoned", { closers });
    const event = await emitEvent(server, tenant, { event: "cart.abandoned" });
    const canceled = await cancelEvent({ client: server.client, headers: await bearer(tenant.machine), path: { id: event.id } });
    expect(canceled.data).toMatchObject({ status: "failed", status_detail: "canceled", total_rules: 1, rule_events: [] });

    expect(await routeQueuedEvents(server.db, server.pool)).toBe(1);
    expect(await deliveriesOf(event.id)).toEqual([{ rule_id: route.ruleId, status: "canceled" }]);
    expect(await eventDetail(server, tenant, event.id)).toMatchObject({ status: "failed", status_detail: "canceled", total_rules: 1 });
  });

  it("when two workers drain the outbox at once, then each batch is routed by one of them and each delivery written once", async () => {
    await routeToReceiver(server, tenant, "user.signed_up", { closers });
    const events = [
      await emitEvent(server, tenant, { event: "user.signed_up" }),
      await emitEvent(server, tenant, { event: "user.signed_up" }),
    ];
    expect(await outboxRows(server.db)).toHaveLength(2);

    // One row each: `skip locked` hands the second call the row the first did not take.
    const runs = await Promise.all([routeOutbox(server.pool, 1), routeOutbox(server.pool, 1)]);
    expect(runs.map((r) => [r.batches, r.routed])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    const deliveries = await sql<{ id: string }>`
      select id from rule_events where event_id in (${events[0]?.id}, ${events[1]?.id}) order by id`.execute(server.db);
    expect(deliveries.rows).toHaveLength(2);
    expect(runs.flatMap((r) => r.pending).sort()).toEqual(deliveries.rows.map((r) => r.id));
    expect(await outboxRows(server.db)).toEqual([]);
    expect(await routeOutbox(server.pool, 8)).toEqual({ batches: 0, routed: 0, pending: [] });
  });

  it("when a batch is named twice (a route job of an older version converted by the upgrade), then the second routing writes nothing and hands on the deliveries still pending", async () => {
    const route = await routeToReceiver(server, tenant, "user.upgraded", { closers });
    const event = await emitEvent(server, tenant, { event: "user.upgraded" });
    const [row] = await outboxRows(server.db);
    await sql`insert into route_outbox (events, rules) values (${[event.id]}::uuid[], ${[route.ruleId]}::uuid[])`.execute(server.db);

    const first = await routeOutbox(server.pool, 1);
    expect(first).toMatchObject({ batches: 1, routed: 1 });
    expect(row?.events).toEqual([event.id]);
    const again = await routeOutbox(server.pool, 1);
    expect(again).toEqual({ batches: 1, routed: 0, pending: first.pending });
    // Once claimed, the delivery is no longer handed on.
    await sql`update rule_events set status = 'processing' where event_id = ${event.id}`.execute(server.db);
    await sql`insert into route_outbox (events, rules) values (${[event.id]}::uuid[], ${[route.ruleId]}::uuid[])`.execute(server.db);
    expect(await routeOutbox(server.pool, 1)).toEqual({ batches: 1, routed: 0, pending: [] });
    await sql`update rule_events set status = 'pending' where event_id = ${event.id}`.execute(server.db);
  });

  it("when the route job died with its worker, then the sweep wakes a new one for the waiting outbox rows, and none while a job is due or after they are routed", async () => {
    const route = await routeToReceiver(server, tenant, "order.shipped", { closers });
    await routeQueuedEvents(server.db, server.pool);
    const event = await emitEvent(server, tenant, { event: "order.shipped" });
    await waitFor(() => queuedJobs("route"), { what: "the route job of the wake", until: (queued) => queued.length === 1 });
    // Younger than the sweep's threshold: no wake, whatever the job.
    expect(await wakeStaleRouting(server.pool, 60_000, 60_000)).toBe(false);
    // The job looks taken by a worker that died with it long ago, and the row has waited.
    await sql`
      update graphile_worker._private_jobs set locked_at = now() - interval '1 hour', locked_by = 'worker-that-died'
      where task_id = (select id from graphile_worker._private_tasks where identifier = 'route')`.execute(server.db);
    await sql`update route_outbox set created_at = now() - interval '1 minute'`.execute(server.db);

    expect(await wakeStaleRouting(server.pool, 1_000, 60_000)).toBe(true);
    // The new job waits, due: a second sweep adds nothing.
    expect(await wakeStaleRouting(server.pool, 1_000, 60_000)).toBe(false);
    const jobs = await queuedJobs("route");
    expect(jobs.map((j) => j.locked)).toEqual([true, false]);

    expect(await routeQueuedEvents(server.db, server.pool)).toBe(1);
    expect(await deliveriesOf(event.id)).toEqual([{ rule_id: route.ruleId, status: "pending" }]);
    // Routed: nothing waits, so nothing wakes, though the dead job is still locked.
    expect(await wakeStaleRouting(server.pool, 1_000, 60_000)).toBe(false);
    await sql`delete from graphile_worker._private_jobs`.execute(server.db);
  });
});
