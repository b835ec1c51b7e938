import { claimDeliveries } from "@switchyard/db";
import { waitFor } from "@switchyard/testing";
import { sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { Tenant } from "./support/fixtures.js";
import { routeQueuedEvents } from "./support/routing.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import { emitEvent, routeToReceiver } from "./support/webhookRoutes.js";

let server: TestServer;
let tenant: Tenant;
let databaseUrl: string;

// No worker: the test routes and claims the deliveries itself, on up to six sessions at once.
const { closers } = useTestServer({ tenant: "Claims", dbPoolSize: 8 }, (file) => {
  ({ server, tenant, databaseUrl } = file);
});

/** `n` pending deliveries of `event` through one new connection: their ids, oldest first. */
async function pendingDeliveries(event: string, n: number): Promise<{ connectionId: string; ids: string[] }> {
  const { connectionId } = await routeToReceiver(server, tenant, event, { closers });
  for (let i = 0; i < n; i += 1) await emitEvent(server, tenant, { event });
  await routeQueuedEvents(server.db, server.pool);
  const { rows } = await sql<{ id: string }>`
    select id from rule_events where connection_id = ${connectionId} order by id`.execute(server.db);
  return { connectionId, ids: rows.map((r) => r.id) };
}

const db = () => server.pool;
const limits = { capacity: 100, perConnection: 16, leaseMs: 60_000 };

describe("claiming deliveries", () => {
  it("when claims of one connection run at once on separate sessions, then together they take exactly its cap, each delivery once and the rest left for later", async () => {
    const { ids } = await pendingDeliveries("claims.concurrent", 40);
    // Six claimers (six sessions of the pool, as six workers would be), each offered its own sixth of the
    // deliveries (as six route jobs would be), made to meet: a session holding `rules` (which a claim reads) keeps them all waiting, then lets them go at once.
    const holder = new pg.Client({ connectionString: databaseUrl });
    await holder.connect();
    let results: Awaited<ReturnType<typeof claimDeliveries>>[];
    try {
      await holder.query("begin");
      await holder.query("lock table rules in access exclusive mode");
      const claims = Promise.all(
        Array.from({ length: 6 }, (_, k) =>
          claimDeliveries(
            db(),
            ids.filter((_, i) => i % 6 === k),
            limits,
          ),
        ),
      );
      await waitFor(
        async () =>
          (
            await holder.query<{ n: number }>(
              "select count(*)::int as n from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())",
            )
          ).rows[0]?.n ?? 0,
        { what: "the six claims to be waiting", until: (waiting) => waiting >= 6 },
      );
      await holder.query("commit");
      results = await claims;
    } finally {
      await holder.end();
    }

    const claimed = results.flatMap((r) => r.claimed.map((d) => d.id));
    expect(claimed).toHaveLength(16);
    expect(new Set(claimed).size).toBe(16);
    const { rows } = await sql<{ status: string; n: number }>`
      select status, count(*)::int as n from rule_events where id = any(${ids}::uuid[]) group by status order by status`.execute(server.db);
    expect(rows).toEqual([
      { status: "pending", n: 24 },
      { status: "processing", n: 16 },
    ]);
    // What a claimer did not take it reports as left for later: together, exactly the 24 still pending.
    expect(results.flatMap((r) => r.left).sort()).toEqual(ids.filter((id) => !claimed.includes(id)).sort());
  });

  it("when attempts are already in flight to the connection, then a claim takes only the slots left, and what it takes carries what the attempt needs", async () => {
    const { connectionId, ids } = await pendingDeliveries("claims.partly.busy", 10);
    const first = await claimDeliveries(db(), ids.slice(0, 3), { ...limits, perConnection: 5 });
    expect(first.claimed.map((d) => d.id).sort()).toEqual(ids.slice(0, 3).sort());

    const second = await claimDeliveries(db(), ids.slice(3), { ...limits, perConnection: 5 });
    expect(second.claimed).toHaveLength(2);
    expect(second.left).toHaveLength(5);
    expect([...second.leftConnections]).toEqual([connectionId]);
    const delivery = second.claimed[0];
    expect(delivery).toMatchObject({
      attempt_count: 1,
      retry_base: 0,
      action: "send_webhook",
      connection_id: connectionId,
      integration_type: "webhook",
      connection_active: true,
      inactive_reason: null,
      workspace_id: tenant.workspaceId,
      event: "claims.partly.busy",
      payload: {},
    });
    expect(delivery?.event_created_at).toBeInstanceOf(Date);
    expect(typeof delivery?.secrets_ciphertext).toBe("string");
  });

  it("when deliveries are canceled, already claimed or not yet due, then a claim skips them and leaves none of them for later", async () => {
    const { ids } = await pendingDeliveries("claims.skipped", 4);
    const [canceled, claimedBefore, notDue, due] = ids as [string, string, string, string];
    await sql`update rule_events set status = 'canceled' where id = ${canceled}`.execute(server.db);
    await claimDeliveries(db(), [claimedBefore], limits);
    await sql`update rule_events set status = 'retrying', next_attempt_at = now() + interval '1 hour' where id = ${notDue}`.execute(
      server.db,
    );

    const result = await claimDeliveries(db(), ids, limits);
    expect(result.claimed.map((d) => d.id)).toEqual([due]);
    expect(result.left).toEqual([]);
    const { rows } = await sql<{ attempt_count: number }>`select attempt_count from rule_events where id = ${claimedBefore}`.execute(
      server.db,
    );
    expect(rows[0]?.attempt_count).toBe(1);
  });
});
