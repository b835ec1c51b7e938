import { createClient, createConfig } from "@switchyard/client";
import { createWebhookRoute, sleep, waitFor } from "@switchyard/testing";
import { afterAll, describe, expect, it } from "vitest";
import { atSteadyRate } from "./support/atSteadyRate.js";
import { deliveryState } from "./support/deliveryState.js";
import { reportFigures } from "./support/figures.js";
import { type LatencySummary, summarize } from "./support/latencies.js";
import { type Answer, type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from "./support/receiver.js";
import { type TimedBulk, timedBulk } from "./support/timedBulk.js";
import { useScenario } from "./support/useScenario.js";

/** One attempt's limit; every hanging answer outlasts it. */
const deliveryTimeoutMs = 500;
/**
 * The retry schedule compressed 5000 times: 8 attempts in about 20 s instead of 28 h, so "comes back after
 * a while" (5 s here) stands for about 7 hours.
 */
const retryScale = 0.0002;
const phaseMs = 8000;
const batchSize = 5;
/**
 * 50 events/s to the healthy receiver, in 10 requests a second (enough answers for a p99 per phase); 30 events/s
 * to the hanging one, whose 8 attempts of 500 ms each then ask for about 120 at once, twice its connection's cap
 * (`SWITCHYARD_DELIVERY_MAX_PER_CONNECTION`, set to 64 here, a quarter of the default, so the cap is reached).
 */
const perConnectionCap = 64;
const healthyBatchesPerSecond = 10;
const brokenBatchesPerSecond = 6;
/** The bounds this scenario holds a hanging receiver to (see docs/reliability.md). */
const healthyDelayBoundMs = 500;
const ingestionDelayBoundMs = 100;
/** How long the "late" receiver stays unreachable after its events were sent: about 7 hours at this scale. */
const lateForMs = 5000;

/** What each receiver does. The retried ones fail a fixed number of times per delivery, so every delivery must end completed. */
const behaviours: Record<string, (w: ReceivedWebhook) => Answer> = {
  healthy: () => ({ status: 200 }),
  /** 500 at random (half the time), at most 3 times per delivery. */
  flaky: (w) => (w.repeat < 3 && Math.random() < 0.5 ? { status: 500 } : { status: 200 }),
  /** Holds the first two attempts past the timeout. */
  slow: (w) => (w.repeat < 2 ? "hang" : { status: 200 }),
  /** Drops the connection on the first two attempts. */
  reset: (w) => (w.repeat < 2 ? "reset" : { status: 200 }),
  /** 429 with Retry-After on the first two attempts. */
  throttled: (w) => (w.repeat < 2 ? { status: 429, headers: { "Retry-After": "1" } } : { status: 200 }),
  /** Refuses connections until 5 s after its events were sent (see `lateForMs`), then answers. */
  late: () => ({ status: 200 }),
  /** Never answers: every attempt times out, and the delivery fails after the last. */
  broken: () => "hang",
};
const chaotic = ["flaky", "slow", "reset", "throttled", "late"] as const;

const receivers = new Map<string, WebhookReceiver>();

// The single-machine default: the worker inside the server process, so ingestion shares its event loop.
const scenario = useScenario("destination-chaos", {
  serverEnv: {
    SWITCHYARD_RUN_WORKER: "true",
    SWITCHYARD_DELIVERY_TIMEOUT_MS: String(deliveryTimeoutMs),
    SWITCHYARD_DELIVERY_LEASE_MARGIN_MS: "1000",
    SWITCHYARD_LEASE_SWEEP_MS: "200",
    SWITCHYARD_WORKER_POLL_MS: "100",
    SWITCHYARD_RETRY_SCHEDULE_SCALE: String(retryScale),
    SWITCHYARD_DELIVERY_MAX_PER_CONNECTION: String(perConnectionCap),
  },
  tenant: "Chaos",
});

// Registered after useScenario, so it runs first: the receivers the test started close before the deployment.
afterAll(async () => {
  for (const receiver of receivers.values()) await receiver.close();
});

/** One batch of events for the receiver `name`. */
interface Batch extends TimedBulk {
  readonly name: string;
}

describe("destinations that fail in every way, beside a healthy one", () => {
  it("when receivers error, hang, reset, throttle or come back late, then every delivery completes (or fails with its attempts recorded), and a hanging receiver neither delays the healthy one nor slows ingestion", async () => {
    const { deployment, server, tenant } = scenario;
    const client = createClient(createConfig({ baseUrl: server.baseUrl }));
    const batches: Batch[] = [];

    /** Sends one batch of `size` events for the receiver `name`, recorded once answered. */
    const sendBatch = async (name: string, size: number) => {
      const body = Array.from({ length: size }, (_, i) => ({ event: `chaos.${name}`, payload: { i } }));
      batches.push({ name, ...(await timedBulk(client, tenant.publishableKey, body, 30_000)) });
    };
    /** Sends `perSecond` batches of `name` events for `ms`. */
    const sendSteadily = (name: string, ms: number, perSecond: number) => atSteadyRate(perSecond, ms, () => sendBatch(name, batchSize));

    const startedAt = Date.now();
    for (const [name, behaviour] of Object.entries(behaviours)) {
      const receiver = await startWebhookReceiver(behaviour, { down: name === "late" });
      receivers.set(name, receiver);
      await createWebhookRoute(client, tenant, `chaos.${name}`, receiver.url);
    }
    const healthy = receivers.get("healthy") as WebhookReceiver;
    const broken = receivers.get("broken") as WebhookReceiver;

    // Phase A: the healthy receiver alone. Phase B: the same, with as much traffic to a receiver that never answers.
    const phaseA = Date.now();
    await sendSteadily("healthy", phaseMs, healthyBatchesPerSecond);
    const phaseB = Date.now();
    await Promise.all([sendSteadily("healthy", phaseMs, healthyBatchesPerSecond), sendSteadily("broken", phaseMs, brokenBatchesPerSecond)]);
    const phaseEnd = Date.now();
    // Then 20 events for each misbehaving receiver.
    await Promise.all(chaotic.map((name) => sendBatch(name, 20)));
    // The late receiver's absence, so long after its events were sent, is the misbehaviour under test.
    await sleep(lateForMs);
    await receivers.get("late")?.up();

    const finished = await waitFor(() => deliveryState(deployment.pool), {
      what: "every delivery to finish",
      until: (s) => s.unfinished === 0,
      timeoutMs: 90_000,
      intervalMs: 250,
    });

    const healthyLatency = (from: number, to: number) => {
      const arrivals = new Map(healthy.received.filter((w) => w.repeat === 0).map((w) => [w.eventId, w.at]));
      return summarize(
        batches
          .filter((b) => b.name === "healthy" && b.sentAt >= from && b.sentAt < to)
          .flatMap((b) => b.ids.map((id) => (arrivals.get(id) ?? Number.POSITIVE_INFINITY) - b.sentAt)),
      );
    };
    const ingestionLatency = (from: number, to: number) =>
      summarize(batches.filter((b) => b.sentAt >= from && b.sentAt < to).map((b) => b.ms));
    const deliveryA = healthyLatency(phaseA, phaseB);
    const deliveryB = healthyLatency(phaseB, phaseEnd);
    const ingestA = ingestionLatency(phaseA, phaseB);
    const ingestB = ingestionLatency(phaseB, phaseEnd);

    const { rows: deliveries } = await deployment.pool.query<{
      event: string;
      status: string;
      attempt_count: number;
      outcomes: string[];
    }>(
      `select e.event, re.status, re.attempt_count,
         coalesce(array_agg(a.outcome_code order by a.attempt) filter (where a.id is not null), '{}') as outcomes
       from rule_events re join events e on e.id = re.event_id left join delivery_attempts a on a.rule_event_id = re.id
       group by re.id, e.event, re.status, re.attempt_count`,
    );
    const byReceiver = (name: string) => deliveries.filter((d) => d.event === `chaos.${name}`);
    const acknowledged = batches.flatMap((b) => b.ids);
    const show = (s: LatencySummary) => `${s.p50} / ${s.p99} / ${s.max}`;

    reportFigures("4. destination chaos", {
      sent: batches.reduce((sum, b) => sum + (b.name === "healthy" || b.name === "broken" ? batchSize : 20), 0),
      acknowledged: acknowledged.length,
      stored: deliveries.length,
      delivered: [...receivers.values()].reduce((sum, r) => sum + r.deliveries(), 0) - broken.deliveries(),
      duplicates: [...receivers.values()].reduce((sum, r) => sum + r.repeatsAfterSuccess(), 0),
      maxLatencyMs: Math.max(deliveryA.max, deliveryB.max),
      peakRssBytes: deployment.peakRssBytes(),
      extra: {
        "healthy delivery, alone p50/p99/max (ms)": show(deliveryA),
        "healthy delivery, beside the hanging receiver p50/p99/max (ms)": show(deliveryB),
        "ingestion, alone p50/p99/max (ms)": show(ingestA),
        "ingestion, beside the hanging receiver p50/p99/max (ms)": show(ingestB),
        ...Object.fromEntries(
          Object.keys(behaviours).map((name) => {
            const mine = byReceiver(name);
            const attempts = mine.reduce((sum, d) => sum + d.attempt_count, 0);
            const statuses = [...new Set(mine.map((d) => d.status))].map((s) => `${mine.filter((d) => d.status === s).length} ${s}`);
            return [`${name}: deliveries, attempts`, `${statuses.join(", ")}; ${attempts} attempts`];
          }),
        ),
        "broken: most attempts open at once (its connection's cap: 64)": broken.peakInFlight(),
        "until every delivery finished (s)": Math.round((Date.now() - startedAt) / 1000),
      },
      bounds: {
        "until every delivery finished (s)": { value: (Date.now() - startedAt) / 1000, limit: 90 },
        "healthy delivery p99 growth beside the hanging receiver (ms)": {
          value: deliveryB.p99 - deliveryA.p99,
          limit: healthyDelayBoundMs,
        },
        "ingestion p99 growth beside the hanging receiver (ms)": { value: ingestB.p99 - ingestA.p99, limit: ingestionDelayBoundMs },
      },
    });

    expect(finished.unfinished).toBe(0);
    expect(batches.filter((b) => b.status !== 201)).toEqual([]);
    expect(deliveries).toHaveLength(acknowledged.length);
    for (const name of ["healthy", ...chaotic]) {
      const mine = byReceiver(name);
      expect(mine.length, name).toBeGreaterThan(0);
      expect(
        mine.filter((d) => d.status !== "completed" || d.outcomes.length !== d.attempt_count || d.outcomes.at(-1) !== "delivered"),
        name,
      ).toEqual([]);
    }
    // Each misbehaviour was met and recorded as what it was.
    const earlier = (name: string) => new Set(byReceiver(name).flatMap((d) => d.outcomes.slice(0, -1)));
    expect(earlier("slow")).toEqual(new Set(["timeout"]));
    expect(earlier("reset")).toEqual(new Set(["network_error"]));
    expect(earlier("throttled")).toEqual(new Set(["rate_limited"]));
    expect(earlier("late")).toEqual(new Set(["network_error"]));
    expect([...earlier("flaky")].every((o) => o === "rejected_server_error")).toBe(true);
    // The permanently broken receiver: every delivery failed after all 8 attempts, each recorded as a timeout.
    const failed = byReceiver("broken");
    expect(
      failed.filter((d) => d.status !== "failed" || d.attempt_count !== 8 || d.outcomes.join() !== Array(8).fill("timeout").join()),
    ).toEqual([]);
    // Isolation: the bounds stated in docs/reliability.md.
    expect(deliveryB.count).toBe(deliveryA.count);
    expect(deliveryB.p99).toBeLessThanOrEqual(deliveryA.p99 + healthyDelayBoundMs);
    expect(ingestB.p99).toBeLessThanOrEqual(ingestA.p99 + ingestionDelayBoundMs);
  });
});
