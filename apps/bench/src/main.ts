import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { summarizeCpuProfile } from "./cpuProfile.js";
import { waitForQuietMachine } from "./cpuWindow.js";
import { type DeliveryRound, formatDeliveryTable, writeDeliveryBlock } from "./deliveryReport.js";
import { type DeliveryRunResult, type EndToEndOptions, measureDelivery, measureTrivialJobs } from "./measureDelivery.js";
import { measureRawInsert, type RawInsertResult } from "./measureRawInsert.js";
import { measureSwitchyard, type SwitchyardOptions, type SwitchyardResult } from "./measureSwitchyard.js";
import { type PostgresCluster, startPostgresCluster } from "./postgresCluster.js";
import { type Receiver, startReceiver } from "./receiver.js";
import { type BenchReport, formatProfile, formatTable, type Round, slowSummary, writeBenchmarksDoc } from "./report.js";
import { sourceRevision } from "./sourceRevision.js";
import { addMappedRoute, addRoute, createTenant, type Tenant } from "./switchyardServer.js";

const usage = `Usage: pnpm bench [--quick] [--rounds N] [--no-profile] [--no-write]

  --quick       1 round of 3 s phases, no profile, docs/benchmarks.md left alone (for development)
  --rounds N    rounds of (a, a', b), alternating (default 3)
  --no-profile  skip the extra profiled Switchyard run
  --no-write    print only; do not rewrite docs/benchmarks.md`;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    "no-profile": { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const quick = values.quick;
const roundCount = values.rounds === undefined ? (quick ? 1 : 3) : Number(values.rounds);
if (!Number.isInteger(roundCount) || roundCount < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
const durations = quick
  ? { rawMs: 3000, throughputMs: 3000, latencyMs: 3000, warmupMs: 1500, rawWarmupMs: 750, rampMs: 300 }
  : { rawMs: 8000, throughputMs: 8000, latencyMs: 8000, warmupMs: 3000, rawWarmupMs: 1500, rampMs: 500 };
/** Delivery parts: (d) trivial jobs, (e) a burst of events to deliver, (f) end-to-end latency at 1,000 events/s. */
const delivery = quick
  ? {
      trivialJobs: 3000,
      burstEvents: 3000,
      deliverDeadlineMs: 10_000,
      e2e: { requestsPerSecond: 100, eventsPerRequest: 10, durationMs: 5000 },
    }
  : {
      trivialJobs: 8000,
      burstEvents: 10_000,
      deliverDeadlineMs: 15_000,
      e2e: { requestsPerSecond: 100, eventsPerRequest: 10, durationMs: 20_000 },
    };
const routeEnv = { SWITCHYARD_DESTINATION_ALLOWLIST: "127.0.0.1/32" };
/** (m)'s server: Slack's API is the bench's receiver. */
const mappedEnv = (receiver: Receiver) => ({ ...routeEnv, SWITCHYARD_SLACK_API_URL: `http://127.0.0.1:${receiver.port}` });
const connections = { raw: 8, http: 16 };
/** (b0): the floor server, built next to this file. */
const floorEntry = fileURLToPath(new URL("./floorServer.js", import.meta.url));
const profile = !quick && !values["no-profile"];
const write = !quick && !values["no-write"];
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const docPath = join(repoRoot, "docs", "benchmarks.md");
const skeleton = `# Benchmarks

<!-- bench:results:start -->
<!-- bench:results:end -->

## What bounds it

<!-- bench:profile:start -->
<!-- bench:profile:end -->
`;

const log = (message: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

/** (a) and (a')'s settings. */
const rawOptions = {
  connections: connections.raw,
  warmupMs: durations.rawWarmupMs,
  rampMs: durations.rampMs,
  durationMs: durations.rawMs,
};
/** The caps raised so far that no delivery is ever deferred: for the diagnostic run after the rounds. */
const uncappedEnv = { ...routeEnv, SWITCHYARD_DELIVERY_MAX_IN_FLIGHT: "100000", SWITCHYARD_DELIVERY_MAX_PER_CONNECTION: "10000" };

/** What every measurement of a bench run shares. */
interface Bench {
  readonly pg: PostgresCluster;
  readonly tenant: Tenant;
  readonly receiver: Receiver;
  readonly workDir: string;
  /** Runs `run` on a fresh copy of `template` (default: bench_template) named `name`, dropped afterwards. */
  readonly withDatabase: <T>(name: string, run: (database: string) => Promise<T>, template?: string) => Promise<T>;
  /** How long runs have waited, so far, for other processes to quiet down, in ms. */
  readonly waitedMs: () => number;
}

/** The results of every round, and why (a') stopped being measured, if it did. */
interface Rounds {
  readonly results: Round[];
  readonly deliveryRounds: DeliveryRound[];
  repositoryProblem: string | undefined;
}

async function main(): Promise<void> {
  const began = Date.now();
  // Read before measuring: the server's sources may change while the bench runs.
  const revision = sourceRevision(repoRoot);
  const workDir = await mkdtemp(join(tmpdir(), "switchyard-bench-work-"));
  let cluster: PostgresCluster | undefined;
  let keepWorkDir = false;
  const receiver = await startReceiver();
  const cleanUp = async () => {
    await receiver.close();
    await cluster?.stop();
    cluster = undefined;
    if (!keepWorkDir) await rm(workDir, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    log("starting the bench's own PostgreSQL");
    cluster = await startPostgresCluster();
    const bench = await prepareBench(cluster, receiver, workDir);
    await measureAndReport(bench, began, revision);
  } catch (error) {
    keepWorkDir = true;
    log(`failed; server logs kept in ${workDir}`);
    throw error;
  } finally {
    await cleanUp();
  }
}

/**
 * Creates the two template databases every run copies: bench_template, migrated, with the tenant, by the
 * server's CLI; bench_routing, the same with one webhook connection to the receiver and one rule.
 */
async function prepareBench(pg: PostgresCluster, receiver: Receiver, workDir: string): Promise<Bench> {
  await pg.admin("create database bench_template");
  const tenant = await createTenant(pg.url("bench_template"), workDir);
  log(`template database migrated by the server's CLI; workspace ${tenant.workspaceId}`);
  // A second template whose workspace routes every event to the bench's receiver (created with the CLI).
  await pg.admin("create database bench_routing template bench_template");
  await addRoute(pg.url("bench_routing"), workDir, tenant, `http://127.0.0.1:${receiver.port}/hook`, "contact.created", routeEnv);
  log(`routing template: one webhook connection to 127.0.0.1:${receiver.port}, one rule for contact.created`);
  // A third: the same tenant routing every event to a Slack connection (the receiver as its API) with a mapping and a template.
  await pg.admin("create database bench_mapped template bench_template");
  await addMappedRoute(pg.url("bench_mapped"), workDir, tenant, "contact.created", mappedEnv(receiver));
  log(`mapped template: one Slack connection (API at 127.0.0.1:${receiver.port}) with a 5-field mapping, one templated rule`);
  return { pg, tenant, receiver, workDir, ...freshDatabases(pg) };
}

/**
 * Every run gets a fresh copy of the migrated template (with the tenant), dropped afterwards. Before each,
 * it waits for other processes to quiet down: at most 30 s before one run and 90 s in all (5 s in all with
 * --quick), so that a busy machine cannot stretch the bench unboundedly.
 */
function freshDatabases(pg: PostgresCluster): Pick<Bench, "withDatabase" | "waitedMs"> {
  let waitedMs = 0;
  const withDatabase = async <T>(name: string, run: (database: string) => Promise<T>, template = "bench_template"): Promise<T> => {
    await pg.admin(`create database ${name} template ${template}`);
    const waited = await waitForQuietMachine(0.15, Math.max(0, Math.min(quick ? 5000 : 30_000, (quick ? 5000 : 90_000) - waitedMs)));
    if (waited > 500) log(`waited ${Math.round(waited / 1000)} s for other processes to quiet down`);
    waitedMs += waited;
    try {
      return await run(name);
    } finally {
      await pg.admin(`drop database ${name} with (force)`);
    }
  };
  return { withDatabase, waitedMs: () => waitedMs };
}

/** Every round, the profiled run and the run with the caps raised; then prints the figures and, unless told not to, writes them. */
async function measureAndReport(bench: Bench, began: number, revision: string): Promise<void> {
  const rounds: Rounds = { results: [], deliveryRounds: [], repositoryProblem: undefined };
  for (let round = 1; round <= roundCount; round++) {
    const ingestion = await measureIngestionRound(bench, round, rounds);
    rounds.results.push(ingestion);
    const routing = await measureRoutingRound(bench, round, ingestion);
    rounds.deliveryRounds.push(await measureDeliveryRound(bench, round, routing));
  }
  const profiled = profile ? await measureProfiled(bench) : undefined;
  const uncapped = await measureUncapped(bench);
  const report: BenchReport = {
    command: "npx -y pnpm@12.4.2 bench",
    revision,
    date: new Date(),
    machine: machineOf(bench.pg),
    durations: {
      rawMs: durations.rawMs,
      throughputMs: durations.throughputMs,
      latencyMs: durations.latencyMs,
      warmupMs: durations.warmupMs,
    },
    connections,
    rounds: rounds.results,
    ...(rounds.repositoryProblem === undefined ? {} : { repositoryProblem: rounds.repositoryProblem }),
    elapsedSeconds: (Date.now() - began) / 1000,
    waitedSeconds: bench.waitedMs() / 1000,
    ...(profiled === undefined ? {} : { profile: profiled }),
  };
  printAndWrite(report, rounds.deliveryRounds, uncapped);
}

function machineOf(pg: PostgresCluster): BenchReport["machine"] {
  return {
    cores: availableParallelism(),
    memoryGiB: totalmem() / 2 ** 30,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    kernel: release(),
    node: process.versions.node,
    postgres: pg.version,
    postgresSettings: pg.settings,
  };
}

/**
 * (b)'s Switchyard run: its closed loop and, unless `latencyMs` is 0, its latency phase. (b0), (g), (g') and
 * the profiled run use the closed loop alone, with `extra`.
 */
function runSwitchyard(
  bench: Bench,
  database: string,
  latencyMs: number,
  extra: Pick<SwitchyardOptions, "env" | "profileDir" | "entry"> = {},
): Promise<SwitchyardResult> {
  return measureSwitchyard(bench.pg, database, bench.tenant, {
    connections: connections.http,
    warmupMs: durations.warmupMs,
    rampMs: durations.rampMs,
    throughputMs: durations.throughputMs,
    latencyMs,
    workDir: bench.workDir,
    ...extra,
  });
}

/** (e) and (f) over a copy of `template` (bench_routing; bench_mapped for (m), which has no (f)), the server run with `env`. */
function runDelivery(
  bench: Bench,
  name: string,
  env: Readonly<Record<string, string>>,
  e2e: EndToEndOptions | undefined,
  template = "bench_routing",
): Promise<DeliveryRunResult> {
  return bench.withDatabase(
    name,
    (db) =>
      measureDelivery(bench.pg, db, bench.tenant, bench.receiver, {
        events: delivery.burstEvents,
        deliverDeadlineMs: delivery.deliverDeadlineMs,
        workDir: bench.workDir,
        env,
        ...(e2e === undefined ? {} : { e2e }),
      }),
    template,
  );
}

/** One round's (a), (a'), (b) and (b0), each logged as it ends. */
async function measureIngestionRound(bench: Bench, round: number, rounds: Rounds): Promise<Round> {
  const { pg, tenant } = bench;
  const raw = await bench.withDatabase(`r${round}_raw`, (db) => measureRawInsert(pg, db, tenant, { ...rawOptions, statement: "plain" }));
  log(`round ${round}: (a) raw ${Math.round(raw.eventsPerSecond)} events/s`);
  const repository = rounds.repositoryProblem === undefined ? await measureRepository(bench, round, rounds) : undefined;
  if (repository !== undefined) log(`round ${round}: (a') Switchyard's insertEvents ${Math.round(repository.eventsPerSecond)} events/s`);
  const switchyard = await bench.withDatabase(`r${round}_switchyard`, (db) => runSwitchyard(bench, db, durations.latencyMs));
  log(
    `round ${round}: (b) Switchyard ${Math.round(switchyard.eventsPerSecond)} events/s, ` +
      `p50/p99 ${switchyard.latency?.p50Ms.toFixed(1)}/${switchyard.latency?.p99Ms.toFixed(1)} ms at half load ` +
      `(${Math.round(switchyard.latency?.achievedEventsPerSecond ?? 0)} events/s answered 201; ${slowSummary(switchyard.latency)}), ` +
      `peak RSS ${Math.round(switchyard.peakRssBytes / 1e6)} MB`,
  );
  const floor = await bench.withDatabase(`r${round}_floor`, (db) =>
    runSwitchyard(bench, db, 0, { entry: floorEntry, env: { FLOOR_WORKSPACE: tenant.workspaceId, FLOOR_CREATED_BY: tenant.createdBy } }),
  );
  log(
    `round ${round}: (b0) the floor, the same work on bare node:http ${Math.round(floor.eventsPerSecond)} events/s ` +
      `(${(floor.eventsPerSecond / raw.eventsPerSecond).toFixed(2)} of raw)`,
  );
  return { raw, ...(repository === undefined ? {} : { repository }), switchyard, floor };
}

/** (a'), or undefined when the built server's repository cannot be called: then `rounds` keeps why, and no later round tries. */
async function measureRepository(bench: Bench, round: number, rounds: Rounds): Promise<RawInsertResult | undefined> {
  try {
    return await bench.withDatabase(`r${round}_repository`, (db) =>
      measureRawInsert(bench.pg, db, bench.tenant, { ...rawOptions, statement: "repository" }),
    );
  } catch (error) {
    rounds.repositoryProblem = error instanceof Error ? error.message : String(error);
    log(`(a') not measured: ${rounds.repositoryProblem}`);
    return undefined;
  }
}

/** One round's (g) and (g'), with the round's (a) and (b) they are compared with. */
type RoutingRound = Pick<DeliveryRound, "raw" | "baseline" | "routed" | "routedNoWorker">;

/**
 * (g) the same closed loop as (b), routing on: every event matches the rule; the receiver answers 200.
 * (g') the same with no worker in the server: what routing costs ingestion itself.
 */
async function measureRoutingRound(bench: Bench, round: number, { raw, switchyard }: Round): Promise<RoutingRound> {
  bench.receiver.reset();
  const routed = await bench.withDatabase(`r${round}_routed`, (db) => runSwitchyard(bench, db, 0, { env: routeEnv }), "bench_routing");
  log(
    `round ${round}: (g) Switchyard with routing ${Math.round(routed.eventsPerSecond)} events/s ` +
      `(${(routed.eventsPerSecond / raw.eventsPerSecond).toFixed(2)} of raw; ${bench.receiver.deliveryIds.size} deliveries arrived meanwhile)`,
  );
  const routedNoWorker = await bench.withDatabase(
    `r${round}_routed_noworker`,
    (db) => runSwitchyard(bench, db, 0, { env: { ...routeEnv, SWITCHYARD_RUN_WORKER: "false" } }),
    "bench_routing",
  );
  log(
    `round ${round}: (g') Switchyard with routing, no worker ${Math.round(routedNoWorker.eventsPerSecond)} events/s ` +
      `(${(routedNoWorker.eventsPerSecond / raw.eventsPerSecond).toFixed(2)} of raw)`,
  );
  return { baseline: switchyard, raw, routed, routedNoWorker };
}

/** One round's (d) trivial jobs, then (e) and (f). */
async function measureDeliveryRound(bench: Bench, round: number, routing: RoutingRound): Promise<DeliveryRound> {
  const jobs = await bench.withDatabase(`r${round}_jobs`, (db) => measureTrivialJobs(bench.pg, db, delivery.trivialJobs));
  log(`round ${round}: (d) graphile-worker ${jobs.version}, trivial jobs: ${Math.round(jobs.jobsPerSecond)} jobs/s`);
  const delivered = await runDelivery(bench, `r${round}_delivery`, routeEnv, delivery.e2e);
  log(
    `round ${round}: (e) ${Math.round(delivered.deliveriesPerSecond)} deliveries/s (${delivered.delivered} of ${delivered.events} in ${delivered.deliverSeconds.toFixed(1)} s, ` +
      `ingested in ${delivered.ingestSeconds.toFixed(1)} s); (f) end-to-end p50/p99 ` +
      `${delivered.endToEnd?.p50Ms.toFixed(1)}/${delivered.endToEnd?.p99Ms.toFixed(1)} ms, ${delivered.endToEnd?.missing} missing`,
  );
  const mapped = await runDelivery(bench, `r${round}_mapped`, mappedEnv(bench.receiver), undefined, "bench_mapped");
  log(
    `round ${round}: (m) mapped delivery to Slack ${Math.round(mapped.deliveriesPerSecond)} deliveries/s ` +
      `(${mapped.delivered} of ${mapped.events}; m/e ${(mapped.deliveriesPerSecond / delivered.deliveriesPerSecond).toFixed(2)})`,
  );
  return { ...routing, jobs, delivery: delivered, mapped };
}

/** One extra closed-loop run (not in the medians) with the server under `node --cpu-prof`, and where its time went. */
async function measureProfiled(bench: Bench): Promise<BenchReport["profile"]> {
  const profileDir = join(bench.workDir, "profile");
  const run = await bench.withDatabase("profiled", (db) => runSwitchyard(bench, db, 0, { profileDir }));
  const summary = summarizeCpuProfile(join(profileDir, "server.cpuprofile"), run.windowUs[0], run.windowUs[1]);
  log(`profiled run: ${Math.round(run.eventsPerSecond)} events/s`);
  return { summary, run };
}

/**
 * Diagnostic, not in the medians: (e) and (f) once more with the per-process and per-connection caps raised
 * so far that no delivery is ever deferred (deferring is what fails in the code measured; see the report).
 */
async function measureUncapped(bench: Bench): Promise<DeliveryRunResult> {
  const uncapped = await runDelivery(bench, "uncapped", uncappedEnv, {
    ...delivery.e2e,
    durationMs: Math.min(delivery.e2e.durationMs, 10_000),
  });
  log(
    `caps raised: (e) ${Math.round(uncapped.deliveriesPerSecond)} deliveries/s (${uncapped.delivered} of ${uncapped.events}); ` +
      `(f) p50/p99 ${uncapped.endToEnd?.p50Ms.toFixed(1)}/${uncapped.endToEnd?.p99Ms.toFixed(1)} ms`,
  );
  return uncapped;
}

/** Prints the tables; rewrites docs/benchmarks.md unless --quick or --no-write. */
function printAndWrite(report: BenchReport, deliveryRounds: readonly DeliveryRound[], uncapped: DeliveryRunResult): void {
  process.stdout.write(`\n${formatTable(report)}\n`);
  if (report.profile !== undefined) process.stdout.write(`\n${formatProfile(report.profile.summary, report.profile.run)}\n`);
  process.stdout.write(`\n${formatDeliveryTable(deliveryRounds, delivery, uncapped)}\n`);
  if (write) {
    writeBenchmarksDoc(docPath, report, skeleton);
    writeDeliveryBlock(docPath, deliveryRounds, delivery, report, uncapped);
    process.stdout.write(`\nwrote ${docPath}\n`);
  } else {
    process.stdout.write(`\n${quick ? "--quick: " : ""}docs/benchmarks.md left unchanged\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
