import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { cpuBetween, readCpu, sleep } from "./cpuWindow.js";
import { batchSize, bulkRequests } from "./eventBodies.js";
import { runOpenLoop, startClosedLoop, type Target } from "./httpLoad.js";
import type { PostgresCluster } from "./postgresCluster.js";
import { resetEventTables } from "./resetEventTables.js";
import { percentile } from "./stats.js";
import { startServer, type Tenant } from "./switchyardServer.js";

export interface SwitchyardOptions {
  readonly connections: number;
  readonly warmupMs: number;
  readonly rampMs: number;
  readonly throughputMs: number;
  /** 0 skips the fixed-rate latency phase. */
  readonly latencyMs: number;
  /** Folder to write a CPU profile of the server (`node --cpu-prof`) to; undefined: no profiling. */
  readonly profileDir?: string;
  /** Scratch folder for the server's log. */
  readonly workDir: string;
  /** Extra server environment (the destination allow-list, for runs with routing). */
  readonly env?: Readonly<Record<string, string>>;
  /** Run this script instead of the server (the floor, (b0)). */
  readonly entry?: string;
}

export interface SwitchyardResult {
  readonly eventsPerSecond: number;
  readonly serverUsPerEvent: number;
  readonly postgresUsPerEvent: number;
  /** The load generator's (this process's) CPU per event: reported, not part of Switchyard's cost. */
  readonly loadGeneratorUsPerEvent: number;
  readonly otherLoad: number;
  /** Closed-loop answers other than 201, and the first of them. */
  readonly failures: number;
  readonly firstFailure: string | undefined;
  readonly bodyBytes: number;
  readonly payloadBytes: number;
  readonly latency?: LatencyResult;
  readonly peakRssBytes: number;
  /** The measured window on CLOCK_MONOTONIC, in µs, for matching a CPU profile's samples. */
  readonly windowUs: readonly [number, number];
}

export interface LatencyResult {
  readonly offeredRequestsPerSecond: number;
  readonly achievedEventsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly failures: number;
  readonly firstFailure: string | undefined;
  readonly peakConnections: number;
  readonly peakBacklog: number;
  /** Requests slower than the p99 target, and when they were due (s into the window): bursts point at stalls. */
  readonly slow: { readonly count: number; readonly at: readonly number[] };
  /** CPU of processes outside the bench during this phase, as a share of all cores. */
  readonly otherLoad: number;
  /** Server and PostgreSQL CPU per event at this load, in µs. */
  readonly serverUsPerEvent: number;
  readonly postgresUsPerEvent: number;
}

/** Latencies above this count as slow in the latency report (the p99 target). */
const slowMs = 50;

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/**
 * One Switchyard run on a database of its own: starts the built server as a child process, warms it up,
 * then (1) throughput: `connections` connections closed-loop, 100 events a request; (2) latency: an
 * open-loop load at half the throughput just measured. Tables are emptied and checkpointed before each.
 */
export async function measureSwitchyard(
  cluster: PostgresCluster,
  database: string,
  tenant: Tenant,
  options: SwitchyardOptions,
): Promise<SwitchyardResult> {
  const databaseUrl = cluster.url(database);
  const server = await startServer({
    databaseUrl,
    dataDir: options.workDir,
    logFile: join(options.workDir, `${database}.server.log`),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.entry === undefined ? {} : { entry: options.entry }),
    nodeArgs:
      options.profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`, "--cpu-prof-name=server.cpuprofile"],
  });
  try {
    const target: Target = { host: "127.0.0.1", port: server.port };
    const requests = (tag: string) =>
      bulkRequests({ ...target, publishableKey: tenant.publishableKey, runPrefix: `${tag}${randomBytes(3).toString("hex")}` });

    const warmup = startClosedLoop(target, options.connections, requests("w").next);
    warmup.counters.recording = true;
    await sleep(options.warmupMs);
    await warmup.stop();
    if (warmup.counters.ok === 0) throw new Error(`no request succeeded during the warm-up: ${warmup.counters.firstError}`);
    await resetEventTables(databaseUrl);

    const bodies = requests("t");
    const load = startClosedLoop(target, options.connections, bodies.next);
    await sleep(options.rampMs);
    const start = readCpu(cluster.postmasterPid, server.pid);
    const windowStart = monotonicMicros();
    load.counters.recording = true;
    await sleep(options.throughputMs);
    load.counters.recording = false;
    const end = readCpu(cluster.postmasterPid, server.pid);
    const windowEnd = monotonicMicros();
    await load.stop();
    const cpu = cpuBetween(start, end);
    const events = load.counters.ok * batchSize;
    await checkStored(databaseUrl, events);
    const eventsPerSecond = events / cpu.seconds;

    let latency: LatencyResult | undefined;
    if (options.latencyMs > 0) {
      await resetEventTables(databaseUrl);
      const rate = eventsPerSecond / 2 / batchSize;
      const before = readCpu(cluster.postmasterPid, server.pid);
      const open = await runOpenLoop(
        target,
        { ratePerSecond: rate, durationMs: options.latencyMs, rampMs: 1000, maxConnections: 256, slowMs },
        requests("l").next,
      );
      // The whole phase (ramp and drain included): close enough for a disturbance indicator and a cost at half load.
      const phase = cpuBetween(before, readCpu(cluster.postmasterPid, server.pid));
      const phaseEvents = phase.seconds * rate * batchSize;
      const sorted = Float64Array.from(open.counters.latenciesMs).sort();
      latency = {
        offeredRequestsPerSecond: rate,
        achievedEventsPerSecond: (open.counters.ok * batchSize) / (open.windowMs / 1000),
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        p999Ms: percentile(sorted, 99.9),
        maxMs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
        failures: open.counters.failed,
        firstFailure: open.counters.firstError,
        peakConnections: open.peakConnections,
        peakBacklog: open.peakBacklog,
        slow: { count: open.slow.length, at: [...new Set(open.slow.map(([at]) => Math.round(at / 100) / 10))] },
        otherLoad: phase.otherLoad,
        serverUsPerEvent: phase.serverUs / phaseEvents,
        postgresUsPerEvent: phase.postgresUs / phaseEvents,
      };
    }
    return {
      eventsPerSecond,
      serverUsPerEvent: cpu.serverUs / events,
      postgresUsPerEvent: cpu.postgresUs / events,
      loadGeneratorUsPerEvent: cpu.benchUs / events,
      otherLoad: cpu.otherLoad,
      failures: load.counters.failed,
      firstFailure: load.counters.firstError,
      bodyBytes: bodies.bodyBytes,
      payloadBytes: bodies.payloadBytes,
      ...(latency === undefined ? {} : { latency }),
      peakRssBytes: server.peakRssBytes(),
      windowUs: [windowStart, windowEnd],
    };
  } finally {
    await server.stop();
  }
}

/** Every acknowledged event must be in the table (a bench that counts answers must not count lost writes). */
async function checkStored(databaseUrl: string, acknowledged: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("select count(*) as n from events");
    const stored = Number(rows[0]?.n ?? 0);
    if (stored < acknowledged) throw new Error(`${acknowledged} events were acknowledged in the window but only ${stored} are stored`);
  } finally {
    await client.end();
  }
}
