import { EventsClient } from "@switchyard/client";
import { sleep, waitFor } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { atSteadyRate } from "./support/atSteadyRate.js";
import { reportFigures } from "./support/figures.js";
import { summarize } from "./support/latencies.js";
import { useScenario } from "./support/useScenario.js";

/**
 * 4 clients × 5 batches/s × 25 events: 500 events/s, steady, for 20 s, through 5 SIGKILLs of the server
 * (each restarted at once on the same port).
 */
const clients = 4;
const batchesPerSecond = 5;
const batchSize = 25;
const loadMs = 20_000;
const kills = 5;

// A fixed port, so that the restarted server is where the clients keep sending. A route, so that the ingest
// statement also commits routing work (nothing runs it: no worker runs).
const scenario = useScenario("server-crash", {
  serverEnv: { SWITCHYARD_RUN_WORKER: "false" },
  fixedPort: true,
  tenant: "Crash",
  route: { event: "order.placed", url: "http://127.0.0.1:9/hook" },
});

describe("the server killed with SIGKILL under steady ingestion", () => {
  it("when clients retry through EventsClient, then every acknowledged event is stored exactly once with its routing work, and retries stored no duplicate", async () => {
    const { deployment, tenant, port } = scenario;
    let { server } = scenario;
    const requests: Array<{ status: number | "network error"; ms: number }> = [];
    let inFlight = 0;
    const timedFetch: typeof fetch = async (input, init) => {
      const started = performance.now();
      inFlight += 1;
      try {
        const response = await fetch(input, init);
        requests.push({ status: response.status, ms: performance.now() - started });
        return response;
      } catch (error) {
        requests.push({ status: "network error", ms: performance.now() - started });
        throw error;
      } finally {
        inFlight -= 1;
      }
    };

    const acknowledged = new Map<string, string>();
    let sent = 0;
    let answeredAsDuplicate = 0;
    let unacknowledged = 0;
    const batchLatencies: number[] = [];
    const start = Date.now();

    const sendFrom = async (c: number) => {
      const client = new EventsClient({
        baseUrl: `http://127.0.0.1:${port}`,
        publishableKey: tenant.publishableKey,
        fetch: timedFetch,
        // Enough attempts to ride out a restart (about 1 s): up to ~13 s of backoff in all.
        retry: { attempts: 10, baseDelayMs: 100, maxDelayMs: 2000 },
      });
      await atSteadyRate(
        batchesPerSecond,
        loadMs,
        async (n) => {
          const batch = Array.from({ length: batchSize }, (_, i) => ({ event: "order.placed", payload: { cid: `${c}-${n}-${i}` } }));
          sent += batch.length;
          const sentAt = performance.now();
          const result = await client.emitBatch(batch);
          batchLatencies.push(performance.now() - sentAt);
          for (const [i, record] of result.records.entries()) {
            if (record.type !== "event") {
              unacknowledged += 1;
              continue;
            }
            acknowledged.set(batch[i]?.payload.cid ?? "", record.id);
            if (record.duplicate) answeredAsDuplicate += 1;
          }
        },
        { start },
      );
    };

    const restartTimes: number[] = [];
    let inFlightAtKills = 0;
    const killer = async () => {
      for (let k = 0; k < kills; k += 1) {
        // The kills are spread over the load, a little at random: their schedule is the scenario, not a condition.
        await sleep(loadMs / (kills + 1) - 500 + Math.random() * 1000);
        // Kill while requests are in flight (waiting at most 2 s for two at once).
        await waitFor(() => inFlight, { what: "requests in flight", until: (n) => n >= 2, timeoutMs: 2000, intervalMs: 1 }).catch(() => {});
        inFlightAtKills += inFlight;
        const killedAt = performance.now();
        if (k % 2 === 0) {
          // Every other kill first freezes the process for 300 ms: the statements it had sent commit in
          // PostgreSQL, their answers never leave, and the clients' retries meet the stored events.
          server.signal("SIGSTOP");
          // How long it stays frozen is the scenario: there is nothing to wait for in a frozen process.
          await sleep(300);
        }
        await server.stop("SIGKILL");
        server = await deployment.startServer({ port, env: { SWITCHYARD_RUN_WORKER: "false" } });
        restartTimes.push(performance.now() - killedAt);
      }
    };

    await Promise.all([...Array.from({ length: clients }, (_, c) => sendFrom(c)), killer()]);

    // Each event's routing work: its rule count, and the rows of the routing outbox that name it (no worker
    // runs, so every batch's row is still there).
    const { rows } = await deployment.pool.query<{ cid: string; id: string; copies: number; total_rules: number; outbox_rows: number }>(
      `select e.payload->>'cid' as cid, e.id, count(*) over (partition by e.payload->>'cid')::int as copies,
         e.total_rules, coalesce(r.n, 0)::int as outbox_rows
       from events e left join (
         select named.id as event_id, count(*) as n
         from route_outbox o cross join unnest(o.events) as named(id)
         group by 1
       ) r on r.event_id = e.id
       where e.workspace_id = $1`,
      [tenant.workspaceId],
    );
    const stored = new Map(rows.map((r) => [r.cid, r]));
    const storedTwice = new Set(rows.filter((r) => r.copies > 1).map((r) => r.cid));
    const lost = [...acknowledged].filter(([cid, id]) => stored.get(cid)?.id !== id);
    const withoutRouting = rows.filter((r) => r.total_rules !== 1 || r.outbox_rows !== 1);
    const keys = await deployment.pool.query<{ keys: number; events: number }>(
      "select count(*)::int as keys, count(distinct event_id)::int as events from idempotency_keys where workspace_id = $1",
      [tenant.workspaceId],
    );
    const networkErrors = requests.filter((r) => r.status === "network error").length;
    const serverErrors = requests.filter((r) => typeof r.status === "number" && r.status >= 500).length;
    const requestLatency = summarize(requests.filter((r) => r.status === 201 || r.status === 207).map((r) => r.ms));
    const batchLatency = summarize(batchLatencies);

    reportFigures("1. server crash under load", {
      sent,
      acknowledged: acknowledged.size,
      stored: rows.length,
      delivered: undefined,
      duplicates: storedTwice.size,
      maxLatencyMs: batchLatency.max,
      peakRssBytes: deployment.peakRssBytes(),
      extra: {
        "SIGKILLs of the server": restartTimes.length,
        "requests in flight at the kills": inFlightAtKills,
        "restart, kill to listening (ms, max)": Math.round(Math.max(...restartTimes)),
        "HTTP requests": requests.length,
        "network errors (retried)": networkErrors,
        "5xx answers (retried)": serverErrors,
        "items answered duplicate: true (a retry of a stored item)": answeredAsDuplicate,
        "items never acknowledged (retries exhausted)": unacknowledged,
        "stored but never acknowledged": rows.length - acknowledged.size,
        "batch latency incl. retries p50/p99/max (ms)": `${batchLatency.p50} / ${batchLatency.p99} / ${batchLatency.max}`,
        "request latency, answered p50/p99/max (ms)": `${requestLatency.p50} / ${requestLatency.p99} / ${requestLatency.max}`,
      },
      bounds: {
        // The wait `startServer` allows a server to listen.
        "restart, kill to listening (ms, max)": { value: Math.max(...restartTimes), limit: 30_000 },
        "events never acknowledged": { value: sent - acknowledged.size, limit: sent * 0.05 },
      },
    });

    expect(restartTimes).toHaveLength(kills);
    // The kills hit requests in flight (otherwise this proves nothing), and the clients rode them out.
    expect(networkErrors).toBeGreaterThan(0);
    expect(acknowledged.size).toBeGreaterThanOrEqual(sent * 0.95);
    expect(lost).toEqual([]);
    expect([...storedTwice]).toEqual([]);
    expect(withoutRouting).toEqual([]);
    // One idempotency key per stored event, and no event with two.
    expect(keys.rows[0]).toEqual({ keys: rows.length, events: rows.length });
  });
});
