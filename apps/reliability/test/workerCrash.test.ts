import { EventsClient } from "@switchyard/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryState } from "./support/deliveryState.js";
import { type Deployment, fastRecoveryWorkerEnv, type ServerProcess, startDeployment, type Tenant } from "./support/deployment.js";
import { reportFigures } from "./support/figures.js";
import { summarize } from "./support/latencies.js";
import type { ManagedProcess } from "./support/processes.js";
import { type Receiver, startReceiver } from "./support/receiver.js";
import { sleep, waitFor } from "./support/waitFor.js";
import { addWebhookRoute } from "./support/webhookRoute.js";

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

let deployment: Deployment;
let tenant: Tenant;
let server: ServerProcess;
let receiver: Receiver;

beforeAll(async () => {
  deployment = await startDeployment("worker-crash");
  server = await deployment.startServer({ env: { SWITCHYARD_RUN_WORKER: "false" } });
  tenant = await deployment.createTenant("Worker crash");
  receiver = await startReceiver(() => ({ status: 200, delayMs: 20 + Math.random() * 100 }));
  await addWebhookRoute(server.baseUrl, tenant, "order.placed", receiver.url);
});

afterAll(async () => {
  await receiver?.close();
  await deployment?.close();
});

describe("the standalone worker killed with SIGKILL while deliveries are in flight", () => {
  it("when it is restarted, then every delivery completes, every event arrives, and duplicates (same webhook-id) are only of deliveries in flight at a kill", async () => {
    let worker: ManagedProcess = await deployment.startWorker(fastRecoveryWorkerEnv);
    const client = new EventsClient({ baseUrl: server.baseUrl, publishableKey: tenant.publishableKey });
    const acknowledgedAt = new Map<string, number>();
    let sent = 0;

    const send = async () => {
      const start = Date.now();
      const pending: Promise<void>[] = [];
      for (let n = 0; n < (loadMs / 1000) * batchesPerSecond; n += 1) {
        await sleep(start + (n * 1000) / batchesPerSecond - Date.now());
        const batch = Array.from({ length: batchSize }, (_, i) => ({ event: "order.placed", payload: { n, i } }));
        sent += batch.length;
        pending.push(
          client.emitBatch(batch).then((result) => {
            for (const record of result.records) if (record.type === "event") acknowledgedAt.set(record.id, Date.now());
          }),
        );
      }
      await Promise.all(pending);
    };

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
        await sleep(loadMs / (kills + 1) - downMs);
        await waitFor(
          "requests open at the receiver",
          () => receiver.inFlight(),
          (n) => n >= 5,
          5000,
          5,
        );
        openAtKills.push(receiver.inFlight());
        await worker.stop("SIGKILL");
        // A claim whose COMMIT was on its way when the process died still lands: look once it has.
        await sleep(200);
        const { rows } = await deployment.pool.query<{ claim: string }>(
          "select id || ':' || attempt_count as claim from rule_events where status = 'processing'",
        );
        lostPerKill.push(rows.filter((r) => !lostClaims.has(r.claim)).length);
        for (const { claim } of rows) lostClaims.add(claim);
        await sleep(downMs - 200);
        worker = await deployment.startWorker(fastRecoveryWorkerEnv);
        restartedAt.push(Date.now());
      }
    };

    await Promise.all([send(), killer()]);

    const loadEnded = Date.now();
    await waitFor(
      "every delivery to finish",
      () => deliveryState(deployment.pool),
      (s) => s.unfinished === 0,
      60_000,
      200,
    );
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
