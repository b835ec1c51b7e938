import { randomBytes } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { cpuBetween, readCpu, sleep } from "./cpuWindow.js";
import { batchSize } from "./eventBodies.js";
import { runOpenLoop, startClosedLoop, type Target } from "./httpLoad.js";
import type { PostgresCluster } from "./postgresCluster.js";
import type { Receiver } from "./receiver.js";
import { resetEventTables } from "./resetEventTables.js";
import { maximum, percentile } from "./stats.js";
import { serverDist, type Tenant } from "./switchyardServer.js";
import { withClient } from "./withClient.js";
import { type LoadTarget, withLoadTarget } from "./withLoadTarget.js";

/** The delivery worker's graphile-worker settings (packages/delivery/src/worker/config.ts defaults). */
export const workerSettings = { concurrency: 16, pollIntervalMs: 1000 } as const;

/** The graphile-worker the delivery package runs (its own dependency, so the same version), and that version. */
function graphileWorkerEntry(): { url: string; version: string } {
  const delivery = realpathSync(join(serverDist, "..", "node_modules", "@switchyard", "delivery"));
  const root = join(delivery, "node_modules", "graphile-worker");
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string; main?: string };
  return { url: pathToFileURL(join(root, manifest.main ?? "dist/index.js")).href, version: manifest.version };
}

interface GraphileWorker {
  run(options: Record<string, unknown>): Promise<{ stop(): Promise<void>; events: NodeJS.EventEmitter }>;
  makeWorkerUtils(options: { pgPool: pg.Pool }): Promise<{
    migrate(): Promise<void>;
    addJobs(specs: ReadonlyArray<{ identifier: string; payload: unknown }>): Promise<unknown>;
    release(): Promise<void>;
  }>;
  Logger: new (factory: () => () => void) => unknown;
}

export interface TrivialJobsResult {
  readonly version: string;
  readonly jobs: number;
  readonly jobsPerSecond: number;
  /** Worker (this process) + PostgreSQL CPU per job, µs. */
  readonly workerUsPerJob: number;
  readonly postgresUsPerJob: number;
  readonly otherLoad: number;
}

/**
 * (d) graphile-worker's own limit with the delivery worker's settings: `jobs` jobs of a task that does nothing
 * are added beforehand (in bulk, `addJobs`), then one runner (concurrency 16, poll interval 1 s, no local
 * queue, a pool of concurrency + 2 as `createWorkerPool`) works them off; jobs/s from its start to the last one.
 */
export async function measureTrivialJobs(cluster: PostgresCluster, database: string, jobs: number): Promise<TrivialJobsResult> {
  const entry = graphileWorkerEntry();
  const gw = (await import(entry.url)) as GraphileWorker;
  const pool = new pg.Pool({ connectionString: cluster.url(database), max: workerSettings.concurrency + 2, keepAlive: true });
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  try {
    const utils = await gw.makeWorkerUtils({ pgPool: pool });
    await utils.migrate();
    for (let added = 0; added < jobs; added += 1000) {
      await utils.addJobs(Array.from({ length: Math.min(1000, jobs - added) }, () => ({ identifier: "noop", payload: {} })));
    }
    await utils.release();
    await pool.query("checkpoint");
    let done = 0;
    let lastAt = 0;
    let finished: () => void = () => {};
    const allDone = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const start = readCpu(cluster.postmasterPid);
    const runner = await gw.run({
      pgPool: pool,
      concurrency: workerSettings.concurrency,
      pollInterval: workerSettings.pollIntervalMs,
      noHandleSignals: true,
      logger: new gw.Logger(() => () => {}),
      taskList: {
        noop: async () => {
          done += 1;
          if (done === jobs) {
            lastAt = performance.now();
            finished();
          }
        },
      },
    });
    const timeout = sleep(120_000);
    await Promise.race([allDone, timeout]);
    const end = readCpu(cluster.postmasterPid);
    await runner.stop();
    if (done < jobs) throw new Error(`graphile-worker ran only ${done} of ${jobs} trivial jobs in 120 s`);
    const seconds = (lastAt - start.atMs) / 1000;
    const cpu = cpuBetween(start, end);
    return {
      version: entry.version,
      jobs,
      jobsPerSecond: jobs / seconds,
      workerUsPerJob: cpu.benchUs / jobs,
      postgresUsPerJob: cpu.postgresUs / jobs,
      otherLoad: cpu.otherLoad,
    };
  } finally {
    await pool.end();
  }
}

export interface DeliveryRunResult {
  /** (e) a burst of `events` events ingested at full speed, then delivered. */
  readonly events: number;
  /** Distinct deliveries received by the deadline (all of `events` when complete). */
  readonly delivered: number;
  readonly complete: boolean;
  readonly ingestSeconds: number;
  /** From the first ingest request sent to the last delivery received. */
  readonly deliverSeconds: number;
  readonly deliveriesPerSecond: number;
  /** From the first request until rule_events showed every delivery completed (or gave up waiting). */
  readonly recordedSeconds: number;
  /** Requests the receiver got beyond one per delivery (repeats). */
  readonly repeats: number;
  /** rule_events by status afterwards (all must be completed). */
  readonly statuses: Readonly<Record<string, number>>;
  /** Server and PostgreSQL CPU per delivery over the whole burst (the event's ingestion included), µs. */
  readonly serverUsPerDelivery: number;
  readonly postgresUsPerDelivery: number;
  /** The bench process (load generator and receiver), µs per delivery. */
  readonly benchUsPerDelivery: number;
  readonly otherLoad: number;
  /** (f) end-to-end latency at a steady rate. */
  readonly endToEnd?: EndToEndResult;
}

export interface EndToEndResult {
  readonly eventsPerSecond: number;
  readonly requestsPerSecond: number;
  readonly eventsPerRequest: number;
  readonly seconds: number;
  readonly events: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Events acknowledged in the window that had not arrived 5 s after its end (+∞ in the percentiles). */
  readonly missing: number;
  /** Ingest answers other than 201. */
  readonly failures: number;
  /** Ingest (201) latency from due time, p50 / p99. */
  readonly ingestP50Ms: number;
  readonly ingestP99Ms: number;
  readonly otherLoad: number;
  readonly serverUsPerEvent: number;
  readonly postgresUsPerEvent: number;
}

/** `POST /api/v1/events/bulk` requests of `size` events whose `resource_id`s name the request and item: `f<request>-<item>`. */
function taggedRequests(target: Target, publishableKey: string, size: number): () => Buffer {
  const prefix = randomBytes(3).toString("hex");
  let counter = 0;
  return () => {
    const n = counter++;
    const items: string[] = [];
    for (let i = 0; i < size; i++) {
      items.push(
        `{"event":"contact.created","resource":"contact","resource_id":"f${n}-${i}","idempotency_key":"${prefix}-${n}-${i}",` +
          `"payload":{"email":"ada.lovelace+${n}@example.com","name":"Ada Lovelace","plan":"pro","item":${i}}}`,
      );
    }
    const body = `[${items.join(",")}]`;
    return Buffer.from(
      `POST /api/v1/events/bulk HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nContent-Type: application/json\r\n` +
        `X-Meshes-Publishable-Key: ${publishableKey}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      "latin1",
    );
  };
}

async function ruleEventStatuses(databaseUrl: string): Promise<Record<string, number>> {
  const { rows } = await withClient(databaseUrl, (client) =>
    client.query<{ status: string; n: string }>("select status, count(*) as n from rule_events group by status"),
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * rule_events by status once every delivery is recorded. The receiver can get a webhook before its attempt
 * is recorded: when every delivery arrived (`complete`), waits up to 10 s for rule_events to show `accepted`
 * completed; otherwise reads them once.
 */
async function recordedStatuses(databaseUrl: string, accepted: number, complete: boolean): Promise<Record<string, number>> {
  let statuses = await ruleEventStatuses(databaseUrl);
  for (let waited = 0; complete && (statuses.completed ?? 0) < accepted && waited < 10_000; waited += 100) {
    await sleep(100);
    statuses = await ruleEventStatuses(databaseUrl);
  }
  return statuses;
}

export interface DeliveryOptions {
  readonly events: number;
  /** How long (e) waits, from the first request, for every delivery; what arrived by then is what counts. */
  readonly deliverDeadlineMs: number;
  readonly workDir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly e2e?: EndToEndOptions;
}

export interface EndToEndOptions {
  readonly requestsPerSecond: number;
  readonly eventsPerRequest: number;
  readonly durationMs: number;
}

/**
 * (e) and (f) on one server (built, with its in-process worker) over a database whose workspace routes every
 * event to `receiver`: (e) a burst of `events` events sent closed-loop on 8 connections, timed until the
 * receiver has every delivery; (f) an open loop of `e2e.requestsPerSecond` requests of `e2e.eventsPerRequest`
 * events for `e2e.durationMs`, each event's latency running from its request's 201 arriving here to its webhook
 * arriving at the receiver.
 */
export async function measureDelivery(
  cluster: PostgresCluster,
  database: string,
  tenant: Tenant,
  receiver: Receiver,
  options: DeliveryOptions,
): Promise<DeliveryRunResult> {
  return withLoadTarget(cluster, database, tenant, { workDir: options.workDir, env: options.env }, async (run) => {
    await warmUp(run, receiver);
    const delivered = await measureBurst(cluster, run, receiver, options);
    const endToEnd = options.e2e === undefined ? undefined : await measureEndToEnd(cluster, run, tenant, receiver, options.e2e);
    return {
      ...delivered,
      // Read after (f), which resets the receiver: when (f) runs, these are its repeats.
      repeats: receiver.received - receiver.deliveryIds.size,
      ...(endToEnd === undefined ? {} : { endToEnd }),
    };
  });
}

/** 1,000 events through to the receiver (JIT, pools, the worker's first jobs), at most 5 s; then empty tables and receiver. */
async function warmUp(run: LoadTarget, receiver: Receiver): Promise<void> {
  receiver.reset();
  await burst(run.target, run.requests("w").next, 1000);
  await receiver.waitFor(1000, 5000);
  await resetEventTables(run.databaseUrl);
  await sleep(300);
  receiver.reset();
}

/**
 * (e) The burst: timed from the first request to the last delivery received, or to the deadline with what
 * arrived by then; the CPU of that span per delivery.
 */
async function measureBurst(
  cluster: PostgresCluster,
  run: LoadTarget,
  receiver: Receiver,
  options: DeliveryOptions,
): Promise<Omit<DeliveryRunResult, "repeats" | "endToEnd">> {
  const start = readCpu(cluster.postmasterPid, run.server.pid);
  const ingest = await burst(run.target, run.requests("e").next, options.events);
  const ingestSeconds = (performance.now() - start.atMs) / 1000;
  const complete = await receiver.waitFor(ingest.accepted, Math.max(0, options.deliverDeadlineMs - (performance.now() - start.atMs)));
  const end = readCpu(cluster.postmasterPid, run.server.pid);
  const deliveries = receiver.deliveryIds.size;
  // Complete: first request → last webhook. Not complete: what arrived by the deadline, over the whole wait.
  const deliverSeconds = ((complete ? receiver.lastAtMs : end.atMs) - start.atMs) / 1000;
  const statuses = await recordedStatuses(run.databaseUrl, ingest.accepted, complete);
  const recordedSeconds = (performance.now() - start.atMs) / 1000;
  const cpu = cpuBetween(start, end);
  return {
    events: ingest.accepted,
    delivered: deliveries,
    complete,
    ingestSeconds,
    deliverSeconds,
    deliveriesPerSecond: deliveries / deliverSeconds,
    recordedSeconds,
    statuses,
    serverUsPerDelivery: cpu.serverUs / Math.max(1, deliveries),
    postgresUsPerDelivery: cpu.postgresUs / Math.max(1, deliveries),
    benchUsPerDelivery: cpu.benchUs / Math.max(1, deliveries),
    otherLoad: cpu.otherLoad,
  };
}

/**
 * (f) An open loop of tagged requests on emptied tables; each event's latency runs from its request's 201
 * to its webhook's arrival. Requests due in the first 2 s (the ramp) are not counted.
 */
async function measureEndToEnd(
  cluster: PostgresCluster,
  run: LoadTarget,
  tenant: Tenant,
  receiver: Receiver,
  e2e: EndToEndOptions,
): Promise<EndToEndResult> {
  await resetEventTables(run.databaseUrl);
  receiver.reset();
  const answeredAt = new Map<number, number>();
  const rampMs = 2000;
  const before = readCpu(cluster.postmasterPid, run.server.pid);
  const open = await runOpenLoop(
    run.target,
    {
      ratePerSecond: e2e.requestsPerSecond,
      durationMs: e2e.durationMs,
      rampMs,
      maxConnections: 64,
      slowMs: 250,
      onAnswered: (index, at, status) => {
        if (status === 201) answeredAt.set(index, at);
      },
    },
    taggedRequests(run.target, tenant.publishableKey, e2e.eventsPerRequest),
  );
  // Requests due after the ramp are recorded: their numbers start at ramp × rate.
  const firstRecorded = Math.ceil((rampMs / 1000) * e2e.requestsPerSecond);
  const expected = answeredAt.size * e2e.eventsPerRequest;
  await receiver.waitFor(expected, 5000);
  const phase = cpuBetween(before, readCpu(cluster.postmasterPid, run.server.pid));
  const { latencies, missing } = arrivalLatencies(receiver, answeredAt, firstRecorded, e2e.eventsPerRequest);
  const sorted = Float64Array.from(latencies).sort();
  const ingestSorted = Float64Array.from(open.counters.latenciesMs).sort();
  const phaseEvents = answeredAt.size * e2e.eventsPerRequest;
  return {
    eventsPerSecond: e2e.requestsPerSecond * e2e.eventsPerRequest,
    requestsPerSecond: e2e.requestsPerSecond,
    eventsPerRequest: e2e.eventsPerRequest,
    seconds: e2e.durationMs / 1000,
    events: latencies.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: maximum(sorted),
    missing,
    failures: open.counters.failed,
    ingestP50Ms: percentile(ingestSorted, 50),
    ingestP99Ms: percentile(ingestSorted, 99),
    otherLoad: phase.otherLoad,
    serverUsPerEvent: phase.serverUs / phaseEvents,
    postgresUsPerEvent: phase.postgresUs / phaseEvents,
  };
}

/**
 * Each recorded event's latency from its request's 201 (`answeredAt`, by request number) to its arrival at
 * the receiver. An event that has not arrived is slower than anything measured: it counts as +∞, and as missing.
 */
function arrivalLatencies(
  receiver: Receiver,
  answeredAt: ReadonlyMap<number, number>,
  firstRecorded: number,
  eventsPerRequest: number,
): { latencies: number[]; missing: number } {
  const latencies: number[] = [];
  let missing = 0;
  for (const [index, at] of answeredAt) {
    if (index < firstRecorded) continue;
    for (let i = 0; i < eventsPerRequest; i++) {
      const arrived = receiver.arrivals.get(`f${index}-${i}`);
      if (arrived === undefined) missing += 1;
      latencies.push(arrived === undefined ? Number.POSITIVE_INFINITY : Math.max(0, arrived - at));
    }
  }
  return { latencies, missing };
}

/** Sends `events` events (in 100-event requests) closed-loop on 8 connections; resolves when all are answered. */
async function burst(target: Target, next: () => Buffer, events: number): Promise<{ accepted: number }> {
  const requests = Math.ceil(events / batchSize);
  let sent = 0;
  let reached: () => void = () => {};
  const allSent = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const load = startClosedLoop(target, Math.min(8, requests), () => {
    sent += 1;
    if (sent >= requests) reached();
    return next();
  });
  load.counters.recording = true;
  await allSent;
  await load.stop();
  if (load.counters.failed > 0)
    throw new Error(`ingest burst: ${load.counters.failed} requests not answered 201: ${load.counters.firstError}`);
  return { accepted: load.counters.ok * batchSize };
}
