import { createClient, createConfig } from "@switchyard/client";
import { sleep, waitFor } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { atSteadyRate } from "./support/atSteadyRate.js";
import { deliveryState } from "./support/deliveryState.js";
import { fastRecoveryWorkerEnv } from "./support/deployment.js";
import { reportFigures } from "./support/figures.js";
import { summarize } from "./support/latencies.js";
import { type TimedBulk, timedBulk } from "./support/timedBulk.js";
import { useScenario } from "./support/useScenario.js";

/** `SWITCHYARD_DB_TIMEOUT_MS`: the longest any request may wait on the database. */
const dbTimeoutMs = 1000;
/** Beyond the timeout, time for the answer to be written and travel back. */
const slackMs = 500;
/** Once PostgreSQL accepts connections again, ingestion must answer 201 within this. */
const recoveryBoundMs = 5000;
const batchesPerSecond = 10;
const batchSize = 10;
const beforeMs = 4000;
const downMs = 6000;
const afterMs = 6000;

const scenario = useScenario("database-restart", {
  serverEnv: { SWITCHYARD_RUN_WORKER: "false", SWITCHYARD_DB_TIMEOUT_MS: String(dbTimeoutMs) },
  workerEnv: fastRecoveryWorkerEnv,
  tenant: "Database restart",
  receiver: () => ({ status: 200 }),
  route: { event: "order.placed" },
});

/** One batch of `batchSize` events, numbered `batch` (its events carry it in their payload). */
interface Sent extends TimedBulk {
  readonly batch: number;
}

describe("the test's own PostgreSQL stopped for 6 s under steady ingestion and delivery", () => {
  it("when it starts again, then ingestion answered 503 within the timeout while it was down, and server and worker recover by themselves with nothing acknowledged lost", async () => {
    const { deployment, server, worker, tenant, receiver } = scenario;
    const client = createClient(createConfig({ baseUrl: server.baseUrl }));
    const readiness: Array<{ at: number; status: number | "no answer" }> = [];
    const start = Date.now();
    const end = start + beforeMs + downMs + afterMs;

    const send = () =>
      atSteadyRate(
        batchesPerSecond,
        end - start,
        async (n): Promise<Sent> => {
          const body = Array.from({ length: batchSize }, (_, i) => ({
            event: "order.placed",
            payload: { batch: n, i },
            idempotency_key: `batch-${n}-${i}`,
          }));
          return { batch: n, ...(await timedBulk(client, tenant.publishableKey, body, 10_000)) };
        },
        { start },
      );

    const probeReadiness = async () => {
      while (Date.now() < end + 2000) {
        const status = await fetch(`${server.baseUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
          (r) => r.status,
          () => "no answer" as const,
        );
        readiness.push({ at: Date.now(), status });
        // A sample every 200 ms: readiness over time is the measurement, not a condition to wait for.
        await sleep(200);
      }
    };

    let downAt = 0;
    let upAt = 0;
    // The outage's schedule is the scenario itself: so long before, so long down.
    const outage = async () => {
      await sleep(beforeMs);
      await deployment.postgres.stop();
      downAt = Date.now();
      await sleep(downMs);
      await deployment.postgres.start();
      upAt = Date.now();
    };

    const [sent] = await Promise.all([send(), probeReadiness(), outage()]);

    // Answers to requests sent while PostgreSQL was down (and not after it was back).
    const whileDown = sent.filter((s) => s.sentAt >= downAt && s.sentAt + s.ms < upAt);
    const firstRecovered = Math.min(...sent.filter((s) => s.sentAt >= upAt && s.status === 201).map((s) => s.sentAt));
    const afterRecovery = sent.filter((s) => s.sentAt >= upAt + recoveryBoundMs);
    const acknowledged = sent.filter((s) => s.status === 201).flatMap((s) => s.ids);

    const { rows } = await deployment.pool.query<{ batch: number; n: number }>(
      "select (payload->>'batch')::int as batch, count(*)::int as n from events group by 1",
    );
    const storedPerBatch = new Map(rows.map((r) => [r.batch, r.n]));
    const stored = rows.reduce((sum, r) => sum + r.n, 0);
    const partial = rows.filter((r) => r.n !== batchSize);
    const unacknowledgedButStored = sent.filter((s) => s.status !== 201 && (storedPerBatch.get(s.batch) ?? 0) > 0).length;

    await waitFor(() => deliveryState(deployment.pool), {
      what: "every delivery to finish",
      until: (s) => s.unfinished === 0,
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const received = new Set(receiver.received.map((w) => w.eventId));
    const undelivered = acknowledged.filter((id) => !received.has(id));
    const { rows: storedIds } = await deployment.pool.query<{ id: string }>("select id from events");
    const storedSet = new Set(storedIds.map((r) => r.id));
    const lost = acknowledged.filter((id) => !storedSet.has(id));
    const latency = summarize(sent.map((s) => s.ms));
    const downLatency = summarize(whileDown.map((s) => s.ms));
    const statuses = [...new Set(sent.map((s) => s.status))].map(
      (status) => `${status}: ${sent.filter((s) => s.status === status).length}`,
    );

    reportFigures("3. database restart", {
      sent: sent.length * batchSize,
      acknowledged: acknowledged.length,
      stored,
      delivered: receiver.deliveries(),
      duplicates: receiver.duplicates(),
      maxLatencyMs: latency.max,
      peakRssBytes: deployment.peakRssBytes(),
      extra: {
        "PostgreSQL down (ms)": upAt - downAt,
        "requests by answer": statuses.join(", "),
        "answers while down p50/p99/max (ms)": `${downLatency.p50} / ${downLatency.p99} / ${downLatency.max} (timeout ${dbTimeoutMs})`,
        "first 201 after PostgreSQL was back (ms)": firstRecovered - upAt,
        "/readyz 503 answers while down": readiness.filter((r) => r.at > downAt && r.at < upAt && r.status === 503).length,
        "batches stored in part": partial.length,
        "batches answered 503 yet stored whole (committed as the deadline hit)": unacknowledgedButStored,
        "server / worker restarts": 0,
      },
      bounds: {
        "slowest request (ms)": { value: latency.max, limit: dbTimeoutMs + slackMs },
        "first 201 after PostgreSQL was back (ms)": { value: firstRecovered - upAt, limit: recoveryBoundMs },
      },
    });

    expect(whileDown.length).toBeGreaterThanOrEqual((downMs / 1000 - 2) * batchesPerSecond);
    expect(whileDown.filter((s) => s.status !== 503 || s.errorName !== "ServiceUnavailable")).toEqual([]);
    // No request, whenever it was sent, waited past the configured timeout.
    expect(sent.filter((s) => s.ms > dbTimeoutMs + slackMs)).toEqual([]);
    expect(readiness.some((r) => r.at > downAt && r.at < upAt && r.status === 503)).toBe(true);
    expect(readiness.at(-1)?.status).toBe(200);
    expect(firstRecovered - upAt).toBeLessThan(recoveryBoundMs);
    expect(afterRecovery.length).toBeGreaterThan(0);
    expect(afterRecovery.filter((s) => s.status !== 201)).toEqual([]);
    expect(partial).toEqual([]);
    expect(lost).toEqual([]);
    expect(undelivered).toEqual([]);
    // Neither process was restarted: the same ones recovered.
    expect(server.running()).toBe(true);
    expect(worker.running()).toBe(true);
  });
});
