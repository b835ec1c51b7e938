import { cpuBetween, readCpu, sleep } from "./cpuWindow.js";
import { batchSize } from "./eventBodies.js";
import { runOpenLoop, startClosedLoop } from "./httpLoad.js";
import type { PostgresCluster } from "./postgresCluster.js";
import { resetEventTables } from "./resetEventTables.js";
import { maximum, percentile } from "./stats.js";
import type { Tenant } from "./switchyardServer.js";
import { withClient } from "./withClient.js";
import { type LoadTarget, withLoadTarget } from "./withLoadTarget.js";

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
  const nodeArgs =
    options.profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.profileDir}`, "--cpu-prof-name=server.cpuprofile"];
  const serverOptions = {
    workDir: options.workDir,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.entry === undefined ? {} : { entry: options.entry }),
    nodeArgs,
  };
  return withLoadTarget(cluster, database, tenant, serverOptions, async (run) => {
    await warmUp(run, options);
    const { windowUs, ...throughput } = await measureThroughput(cluster, run, options);
    const latency = options.latencyMs > 0 ? await measureLatency(cluster, run, options.latencyMs, throughput.eventsPerSecond) : undefined;
    return {
      ...throughput,
      ...(latency === undefined ? {} : { latency }),
      peakRssBytes: run.server.peakRssBytes(),
      windowUs,
    };
  });
}

/** Closed-loop load for `warmupMs` (JIT, pools, caches), of which at least one request must succeed; then empty tables. */
async function warmUp(run: LoadTarget, options: SwitchyardOptions): Promise<void> {
  const warmup = startClosedLoop(run.target, options.connections, run.requests("w").next);
  warmup.counters.recording = true;
  await sleep(options.warmupMs);
  await warmup.stop();
  if (warmup.counters.ok === 0) throw new Error(`no request succeeded during the warm-up: ${warmup.counters.firstError}`);
  await resetEventTables(run.databaseUrl);
}

/**
 * (1) `connections` connections closed-loop, recorded for `throughputMs` after `rampMs`: events acknowledged
 * per second and the CPU each cost. Every acknowledged event must be stored.
 */
async function measureThroughput(
  cluster: PostgresCluster,
  run: LoadTarget,
  options: SwitchyardOptions,
): Promise<Omit<SwitchyardResult, "latency" | "peakRssBytes">> {
  const bodies = run.requests("t");
  const load = startClosedLoop(run.target, options.connections, bodies.next);
  await sleep(options.rampMs);
  const start = readCpu(cluster.postmasterPid, run.server.pid);
  const windowStart = monotonicMicros();
  load.counters.recording = true;
  await sleep(options.throughputMs);
  load.counters.recording = false;
  const end = readCpu(cluster.postmasterPid, run.server.pid);
  const windowEnd = monotonicMicros();
  await load.stop();
  const cpu = cpuBetween(start, end);
  const events = load.counters.ok * batchSize;
  await checkStored(run.databaseUrl, events);
  return {
    eventsPerSecond: events / cpu.seconds,
    serverUsPerEvent: cpu.serverUs / events,
    postgresUsPerEvent: cpu.postgresUs / events,
    loadGeneratorUsPerEvent: cpu.benchUs / events,
    otherLoad: cpu.otherLoad,
    failures: load.counters.failed,
    firstFailure: load.counters.firstError,
    bodyBytes: bodies.bodyBytes,
    payloadBytes: bodies.payloadBytes,
    windowUs: [windowStart, windowEnd],
  };
}

/** (2) An open loop at half of `eventsPerSecond` for `latencyMs` (after a 1 s ramp), on emptied tables. */
async function measureLatency(
  cluster: PostgresCluster,
  run: LoadTarget,
  latencyMs: number,
  eventsPerSecond: number,
): Promise<LatencyResult> {
  await resetEventTables(run.databaseUrl);
  const rate = eventsPerSecond / 2 / batchSize;
  const before = readCpu(cluster.postmasterPid, run.server.pid);
  const open = await runOpenLoop(
    run.target,
    { ratePerSecond: rate, durationMs: latencyMs, rampMs: 1000, maxConnections: 256, slowMs },
    run.requests("l").next,
  );
  // The whole phase (ramp and drain included): close enough for a disturbance indicator and a cost at half load.
  const phase = cpuBetween(before, readCpu(cluster.postmasterPid, run.server.pid));
  const phaseEvents = phase.seconds * rate * batchSize;
  const sorted = Float64Array.from(open.counters.latenciesMs).sort();
  return {
    offeredRequestsPerSecond: rate,
    achievedEventsPerSecond: (open.counters.ok * batchSize) / (open.windowMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    p999Ms: percentile(sorted, 99.9),
    maxMs: maximum(sorted),
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

/** Every acknowledged event must be in the table (a bench that counts answers must not count lost writes). */
async function checkStored(databaseUrl: string, acknowledged: number): Promise<void> {
  const { rows } = await withClient(databaseUrl, (client) => client.query<{ n: string }>("select count(*) as n from events"));
  const stored = Number(rows[0]?.n ?? 0);
  if (stored < acknowledged) throw new Error(`${acknowledged} events were acknowledged in the window but only ${stored} are stored`);
}
