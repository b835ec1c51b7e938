import { EventsClient } from "@switchyard/client";
import { sleep, waitFor } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { atSteadyRate } from "./support/atSteadyRate.js";
import { deliveryState } from "./support/deliveryState.js";
import { fastRecoveryWorkerEnv } from "./support/deployment.js";
import { reportFigures } from "./support/figures.js";
import { summarize } from "./support/latencies.js";
import type { ManagedProcess } from "./support/processes.js";
import { useScenario } from "./support/useScenario.js";

/**
 * 10 batches/s × 10 events for 12 s, delivered to a receiver that takes 20–120 ms (about 7 requests open at
 * once, under the worker's cap of 16 per connection), through 4 SIGKILLs of the worker.
 */
const batchesPerSecond = 10;
const batchSize = 10;
const loadMs = 12_000;
const kills = 4;
/** How long no worker runs after each kill. */
const downMs = 500;

// The worker is started by the test, which kills and restarts it.
const scenario = useScenario("worker-crash", {
  serverEnv: { SWITCHYARD_RUN_WORKER: "false" },
  tenant: "Worker crash",
  receiver: () => ({ status: 200, delayMs: 20 + Math.random() * 100 }),
  route: { event: "order.placed" },
});

describe("the standalone worker killed with SIGKILL while deliveries are in flight", () => {
  it("when it is restarted, then every delivery completes, every event arrives, and duplicates (same webhook-id) are only of deliveries in flight at a kill", async () => {
    const { deployment, server, tenant, receiver } = scenario;
    let worker: ManagedProcess = await deployment.startWorker(fastRecoveryWorkerEnv);
    const client = new EventsClient({ baseUrl: server.baseUrl, publishableKey: tenant.publishableKey });
    const acknowledgedAt = new Map<string, number>();
    let sent = 0;

    const send = () =>
      atSteadyRate(batchesPerSecond, loadMs, async (n) => {
        const batch = Array.from({ length: batchSize }, (_, i) => ({ event: "order.placed", payload: { n, i } }));
        sent += batch.length;
        const result = await client.emitBatch(batch);
        for (const record of result.records) if (record.type === "event") acknowledgedAt.set(record.id, Date.now());
      });

    /**
     * Claims that died with a worker: deliveries left `processing` (attempt unrecorded) after a kill, as
     * "<delivery id>:<attempt>". A claim still within its lease at the next kill is seen again; a Set counts it once.
     */
    const lostClaims = new Set<string>();
    const lostPerKill: number[] = [];
    const openAtKills: number[] = [];
    const restartedAt: number[] = [];
    const killer = async () => {
      for (let k = 0; k < kills; k += 1) {
        // The kills are spread over the load: their schedule is the scenario, not a condition.
        await sleep(loadMs / (kills + 1) - downMs);
        await waitFor(() => receiver.inFlight(), {
          what: "requests open at the receiver",
          until: (n) => n >= 5,
          timeoutMs: 5000,
          intervalMs: 5,
        });
        openAtKills.push(receiver.inFlight());
        const killedAt = Date.now();
        await worker.stop("SIGKILL");
        // A claim whose COMMIT was on its way when the process died still lands: look once it has, that is once
        // PostgreSQL has ended every session of the dead worker (its pool's application_name).
        await waitFor(
          async () => {
            const { rows } = await deployment.pool.query<{ n: number }>(
              "select count(*)::int as n from pg_stat_activity where application_name = 'switchyard-worker'",
            );
            return rows[0]?.n;
          },
          { what: "the killed worker's sessions to end", until: (n) => n === 0, timeoutMs: 5000, intervalMs: 10 },
        );
        const { rows } = await deployment.pool.query<{ claim: string }>(
          "select id || ':' || attempt_count as claim from rule_events where status = 'processing'",
        );
        lostPerKill.push(rows.filter((r) => !lostClaims.has(r.claim)).length);
        for (const { claim } of rows) lostClaims.add(claim);
        // No worker runs for `downMs` after each kill: the outage is part of the scenario.
        await sleep(downMs - (Date.now() - killedAt));
        worker = await deployment.startWorker(fastRecoveryWorkerEnv);
        restartedAt.push(Date.now());
      }
    };

    await Promise.all([send(), killer()]);

    const loadEnded = Date.now();
    await waitFor(() => deliveryState(deployment.pool), {
      what: "every delivery to finish",
      until: (s) => s.unfinished === 0,
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const finishedAt = Date.now();

    const { rows: deliveries } = await deployment.pool.query<{ id: string; event_id: string; status: string; attempt_count: number }>(
      "select id, event_id, status, attempt_count from rule_events",
    );
    const stored = await deployment.pool.query<{ n: number }>("select count(*)::int as n from events");
    const receivedEvents = new Set(receiver.received.map((w) => w.eventId));
    const missing = [...acknowledgedAt.keys()].filter((id) => !receivedEvents.has(id));
    const duplicated = [...new Set(receiver.received.filter((w) => w.repeat > 0).map((w) => w.webhookId))];
    const inFlightAtKills = new Set([...lostClaims].map((claim) => claim.split(":")[0]));
    const bound = lostClaims.size;
    const firstArrival = new Map<string, number>();
    for (const w of receiver.received) if (!firstArrival.has(w.eventId)) firstArrival.set(w.eventId, w.at);
    const deliveryLatency = summarize([...acknowledgedAt].map(([id, at]) => (firstArrival.get(id) ?? Number.NaN) - at));

    reportFigures("2. worker crash during delivery", {
      sent,
      acknowledged: acknowledgedAt.size,
      stored: stored.rows[0]?.n ?? 0,
      delivered: receiver.deliveries(),
      duplicates: receiver.duplicates(),
      maxLatencyMs: deliveryLatency.max,
      peakRssBytes: deployment.peakRssBytes(),
      extra: {
        "SIGKILLs of the worker": lostPerKill.length,
        "requests open at the receiver at the kills": openAtKills.join(" + "),
        "first webhook after each restart (ms)": restartedAt
          .map((at) => Math.min(...receiver.received.filter((w) => w.at >= at).map((w) => w.at)) - at)
          .join(", "),
        "claims lost with the killed workers (the bound)": `${lostPerKill.join(" + ")} = ${bound}`,
        "webhooks received": receiver.received.length,
        "delivery latency, ack to first arrival p50/p99/max (ms)": `${deliveryLatency.p50} / ${deliveryLatency.p99} / ${deliveryLatency.max}`,
      },
      bounds: {
        "every delivery finished, after the load (s)": { value: (finishedAt - loadEnded) / 1000, limit: 60 },
        "webhooks received again (of the claims lost)": { value: receiver.duplicates(), limit: bound },
      },
    });

    expect(acknowledgedAt.size).toBe(sent);
    expect(deliveries).toHaveLength(acknowledgedAt.size);
    expect(deliveries.filter((d) => d.status !== "completed")).toEqual([]);
    expect(missing).toEqual([]);
    // The kills did catch deliveries in flight; every duplicate is one of them, and each lost claim makes at most one.
    expect(bound).toBeGreaterThan(0);
    expect(duplicated.filter((id) => !inFlightAtKills.has(id))).toEqual([]);
    expect(receiver.duplicates()).toBeLessThanOrEqual(bound);
  });
});
