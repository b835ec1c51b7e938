import { randomUUID } from "node:crypto";
import { createAttemptRecorder } from "@switchyard/delivery";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { Tenant } from "./support/fixtures.js";
import { routeQueuedEvents } from "./support/routing.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import { emitEvent, routeToReceiver } from "./support/webhookRoutes.js";

let server: TestServer;
let tenant: Tenant;

// No worker: the test routes, claims and records the deliveries itself.
const { closers } = useTestServer({ tenant: "Recorder" }, (file) => {
  ({ server, tenant } = file);
});

/** `n` deliveries through one connection, claimed for their first attempt as a worker's claim leaves them. */
async function claimedDeliveries(event: string, n: number) {
  const { connectionId } = await routeToReceiver(server, tenant, event, { closers });
  const events = [];
  for (let i = 0; i < n; i += 1) events.push(await emitEvent(server, tenant, { event }));
  await routeQueuedEvents(server.db, server.pool);
  const { rows } = await sql<{ id: string; event_id: string }>`
    update rule_events set status = 'processing', attempt_count = 1, lease_expires_at = now() + interval '1 minute'
    where event_id = any(${events.map((e) => e.id)}::uuid[]) returning id, event_id`.execute(server.db);
  await sql`update connections set failing_since = now() where id = ${connectionId}`.execute(server.db);
  return { connectionId, deliveries: rows };
}

function success(deliveryId: string, connectionId: string, body = "ok") {
  const at = new Date();
  return {
    record: {
      deliveryId,
      attempt: 1,
      outcome: "delivered" as const,
      httpStatus: 200,
      durationMs: 3,
      request: { method: "POST" },
      responseHeaders: { "content-type": "text/plain" },
      responseBody: body,
      error: null,
      startedAt: at,
      completedAt: at,
    },
    connectionId,
    attemptId: randomUUID(),
  };
}

describe("recording successful attempts together", () => {
  it("when attempts end while a recording statement runs, then they are recorded together in the next one, each delivery completed", async () => {
    const { connectionId, deliveries } = await claimedDeliveries("recorded.together", 5);
    const recorder = createAttemptRecorder(server.pool, { maxInFlight: 1, maxBatch: 10 });
    // The first starts a statement at once; the other four wait for it and then share one.
    await Promise.all(deliveries.map((d) => recorder.completed(success(d.id, connectionId))));

    const { rows } = await sql<{ status: string; lease_expires_at: Date | null; attempts: number }>`
      select re.status, re.lease_expires_at, (select count(*)::int from delivery_attempts a where a.rule_event_id = re.id) as attempts
      from rule_events re where re.id = any(${deliveries.map((d) => d.id)}::uuid[])`.execute(server.db);
    expect(rows).toEqual(deliveries.map(() => ({ status: "completed", lease_expires_at: null, attempts: 1 })));
    // Rows written by one transaction share its id (xmin): one for the first attempt, one for the other four.
    const transactions = await sql<{ rows: number }>`
      select count(*)::int as rows from delivery_attempts
      where rule_event_id = any(${deliveries.map((d) => d.id)}::uuid[]) group by xmin::text order by 1`.execute(server.db);
    expect(transactions.rows).toEqual([{ rows: 1 }, { rows: 4 }]);
    const events = await sql<{ status: string; completed_count: number }>`
      select status, completed_count from events where id = any(${deliveries.map((d) => d.event_id)}::uuid[])`.execute(server.db);
    expect(events.rows).toEqual(deliveries.map(() => ({ status: "completed", completed_count: 1 })));
    const connection = await sql<{ failing_since: Date | null }>`select failing_since from connections where id = ${connectionId}`.execute(
      server.db,
    );
    expect(connection.rows[0]?.failing_since).toBeNull();
  });

  it("when one attempt of a group cannot be stored, then the group's others are recorded one by one and only it fails", async () => {
    const { connectionId, deliveries } = await claimedDeliveries("recorded.poisoned", 3);
    const recorder = createAttemptRecorder(server.pool, { maxInFlight: 1, maxBatch: 10 });
    // The first goes alone; the group after it holds an attempt of a delivery that does not exist (its row
    // breaks a foreign key), so that statement fails as a whole.
    const results = await Promise.allSettled([
      ...deliveries.map((d) => recorder.completed(success(d.id, connectionId))),
      recorder.completed(success(randomUUID(), connectionId)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected"]);
    expect(results[3]).toMatchObject({ status: "rejected", reason: { code: "23503" } });
    const { rows } = await sql<{ status: string }>`
      select status from rule_events where id = any(${deliveries.map((d) => d.id)}::uuid[])`.execute(server.db);
    expect(rows).toEqual(deliveries.map(() => ({ status: "completed" })));
  });

  it("when a delivery is no longer this attempt's (canceled, or claimed again after its lease), then its attempt is recorded and its status left alone", async () => {
    const { connectionId, deliveries } = await claimedDeliveries("recorded.late", 2);
    const [canceled, reclaimed] = deliveries;
    if (canceled === undefined || reclaimed === undefined) throw new Error("two deliveries expected");
    await sql`update rule_events set status = 'canceled', completed_at = now(), lease_expires_at = null where id = ${canceled.id}`.execute(
      server.db,
    );
    await sql`update rule_events set attempt_count = 2 where id = ${reclaimed.id}`.execute(server.db);
    const recorder = createAttemptRecorder(server.pool, { maxInFlight: 1, maxBatch: 10 });
    await Promise.all(deliveries.map((d) => recorder.completed(success(d.id, connectionId, "late\u0000answer"))));

    const { rows } = await sql<{ id: string; status: string; attempt_count: number; body: string }>`
      select re.id, re.status, re.attempt_count, a.response_body as body
      from rule_events re join delivery_attempts a on a.rule_event_id = re.id
      where re.id = any(${deliveries.map((d) => d.id)}::uuid[]) order by re.status`.execute(server.db);
    expect(rows).toEqual([
      { id: canceled.id, status: "canceled", attempt_count: 1, body: "late\ufffdanswer" },
      { id: reclaimed.id, status: "processing", attempt_count: 2, body: "late\ufffdanswer" },
    ]);
  });
});
