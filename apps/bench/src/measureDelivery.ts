import { randomBytes } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { cpuBetween, readCpu, sleep } from "./cpuWindow.js";
import { batchSize, bulkRequests } from "./eventBodies.js";
import { runOpenLoop, startClosedLoop, type Target } from "./httpLoad.js";
import type { PostgresCluster } from "./postgresCluster.js";
import type { Receiver } from "./receiver.js";
import { resetEventTables } from "./resetEventTables.js";
import { percentile } from "./stats.js";
import { serverDist, startServer, type Tenant } from "./switchyardServer.js";

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
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; n: string }>("select status, count(*) as n from rule_events group by status");
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  } finally {
    await client.end();
  }
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
  options: {
    readonly events: number;
    /** How long (e) waits, from the first request, for every delivery; what arrived by then is what counts. */
    readonly deliverDeadlineMs: number;
    readonly workDir: string;
    readonly env: Readonly<Record<string, string>>;
    readonly e2e?: { readonly requestsPerSecond: number; readonly eventsPerRequest: number; readonly durationMs: number };
  },
): Promise<DeliveryRunResult> {
  const databaseUrl = cluster.url(database);
  const server = await startServer({
    databaseUrl,
    dataDir: options.workDir,
    logFile: join(options.workDir, `${database}.server.log`),
    env: options.env,
  });
  try {
    const target: Target = { host: "127.0.0.1", port: server.port };
    const bulk = (tag: string) =>
      bulkRequests({ ...target, publishableKey: tenant.publishableKey, runPrefix: `${tag}${randomBytes(3).toString("hex")}` });

    // Warm-up: 1,000 events through to the receiver (JIT, pools, the worker's first jobs), at most 5 s.
    receiver.reset();
    await burst(target, bulk("w").next, 1000);
    await receiver.waitFor(1000, 5000);
    await resetEventTables(databaseUrl);
    await sleep(300);
    receiver.reset();

    // (e) the burst.
    const start = readCpu(cluster.postmasterPid, server.pid);
    const ingest = await burst(target, bulk("e").next, options.events);
    const ingestSeconds = (performance.now() - start.atMs) / 1000;
    const complete = await receiver.waitFor(ingest.accepted, Math.max(0, options.deliverDeadlineMs - (performance.now() - start.atMs)));
    const end = readCpu(cluster.postmasterPid, server.pid);
    const deliveries = receiver.deliveryIds.size;
    // Complete: first request → last webhook. Not complete: what arrived by the deadline, over the whole wait.
    const deliverSeconds = ((complete ? receiver.lastAtMs : end.atMs) - start.atMs) / 1000;
    // The receiver can get a webhook before its attempt is recorded: wait (up to 10 s) for rule_events to agree.
    let statuses = await ruleEventStatuses(databaseUrl);
    for (let waited = 0; complete && (statuses.completed ?? 0) < ingest.accepted && waited < 10_000; waited += 100) {
      await sleep(100);
      statuses = await ruleEventStatuses(databaseUrl);
    }
    const recordedSeconds = (performance.now() - start.atMs) / 1000;
    const cpu = cpuBetween(start, end);

    let endToEnd: EndToEndResult | undefined;
    if (options.e2e !== undefined) {
      const e2e = options.e2e;
      await resetEventTables(databaseUrl);
      receiver.reset();
      const answeredAt = new Map<number, number>();
      const rampMs = 2000;
      const before = readCpu(cluster.postmasterPid, server.pid);
      const open = await runOpenLoop(
        target,
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
        taggedRequests(target, tenant.publishableKey, e2e.eventsPerRequest),
      );
      // Requests due after the ramp are recorded: their numbers start at ramp × rate.
      const firstRecorded = Math.ceil((rampMs / 1000) * e2e.requestsPerSecond);
      const expected = answeredAt.size * e2e.eventsPerRequest;
      await receiver.waitFor(expected, 5000);
      const phase = cpuBetween(before, readCpu(cluster.postmasterPid, server.pid));
      const latencies: number[] = [];
      let missing = 0;
      for (const [index, at] of answeredAt) {
        if (index < firstRecorded) continue;
        for (let i = 0; i < e2e.eventsPerRequest; i++) {
          const arrived = receiver.arrivals.get(`f${index}-${i}`);
          // Not delivered within the wait: slower than anything measured (it counts in the percentiles as +∞).
          if (arrived === undefined) {
            missing += 1;
            latencies.push(Number.POSITIVE_INFINITY);
          } else latencies.push(Math.max(0, arrived - at));
        }
      }
      const sorted = Float64Array.from(latencies).sort();
      const ingestSorted = Float64Array.from(open.counters.latenciesMs).sort();
      const phaseEvents = answeredAt.size * e2e.eventsPerRequest;
      endToEnd = {
        eventsPerSecond: e2e.requestsPerSecond * e2e.eventsPerRequest,
        requestsPerSecond: e2e.requestsPerSecond,
        eventsPerRequest: e2e.eventsPerRequest,
        seconds: e2e.durationMs / 1000,
        events: latencies.length,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
        missing,
        failures: open.counters.failed,
        ingestP50Ms: percentile(ingestSorted, 50),
        ingestP99Ms: percentile(ingestSorted, 99),
        otherLoad: phase.otherLoad,
        serverUsPerEvent: phase.serverUs / phaseEvents,
        postgresUsPerEvent: phase.postgresUs / phaseEvents,
      };
    }
    return {
      events: ingest.accepted,
      delivered: deliveries,
      complete,
      ingestSeconds,
      deliverSeconds,
      deliveriesPerSecond: deliveries / deliverSeconds,
      recordedSeconds,
      repeats: receiver.received - receiver.deliveryIds.size,
      statuses,
      serverUsPerDelivery: cpu.serverUs / Math.max(1, deliveries),
      postgresUsPerDelivery: cpu.postgresUs / Math.max(1, deliveries),
      benchUsPerDelivery: cpu.benchUs / Math.max(1, deliveries),
      otherLoad: cpu.otherLoad,
      ...(endToEnd === undefined ? {} : { endToEnd }),
    };
  } finally {
    await server.stop();
  }
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
