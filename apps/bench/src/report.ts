import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { ProfileSummary } from "./cpuProfile.js";
import type { RawInsertResult } from "./measureRawInsert.js";
import type { LatencyResult, SwitchyardResult } from "./measureSwitchyard.js";
import { median } from "./stats.js";

export interface Round {
  readonly raw: RawInsertResult;
  /** (a'): absent when the built server's repository could not be called. */
  readonly repository?: RawInsertResult;
  readonly switchyard: SwitchyardResult;
  /** (b0) the floor: the same closed loop against `floorServer.js`. */
  readonly floor?: SwitchyardResult;
}

export interface Machine {
  readonly cores: number;
  readonly memoryGiB: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly node: string;
  readonly postgres: string;
  readonly postgresSettings: Readonly<Record<string, string>>;
}

export interface BenchReport {
  readonly command: string;
  /** The commit measured (and whether the server's sources had uncommitted changes). */
  readonly revision: string;
  readonly date: Date;
  readonly machine: Machine;
  readonly durations: { readonly rawMs: number; readonly throughputMs: number; readonly latencyMs: number; readonly warmupMs: number };
  readonly connections: { readonly raw: number; readonly http: number };
  readonly rounds: readonly Round[];
  /** Why (a') was not measured, if it was not. */
  readonly repositoryProblem?: string;
  readonly elapsedSeconds: number;
  /** Time spent waiting for other processes to quiet down before runs. */
  readonly waitedSeconds: number;
  readonly profile?: { readonly summary: ProfileSummary; readonly run: SwitchyardResult };
}

/** The most any of a round's runs was disturbed by other processes. */
function otherLoadOf(round: Round): number {
  return Math.max(
    round.raw.otherLoad,
    round.repository?.otherLoad ?? 0,
    round.switchyard.otherLoad,
    round.switchyard.latency?.otherLoad ?? 0,
    round.floor?.otherLoad ?? 0,
  );
}

/** The targets; memory in MB of 10^6 bytes (the stricter reading of "250 MB"). */
export const targets = { ratio: 0.7, p99Ms: 50, rssMB: 250 } as const;

const MB = 1e6;

/** The medians the targets are judged on; each part's runs vary ±25 % here, so medians of alternated rounds. */
export function summarize(report: BenchReport) {
  const r = report.rounds;
  const m = (f: (round: Round) => number | undefined) => median(r.map(f).filter((v): v is number => v !== undefined && !Number.isNaN(v)));
  const ratios = r.map((x) => x.switchyard.eventsPerSecond / x.raw.eventsPerSecond);
  const summary = {
    raw: m((x) => x.raw.eventsPerSecond),
    repository: m((x) => x.repository?.eventsPerSecond),
    switchyard: m((x) => x.switchyard.eventsPerSecond),
    ratios,
    ratio: median(ratios),
    repositoryRatio: m((x) => (x.repository === undefined ? undefined : x.repository.eventsPerSecond / x.raw.eventsPerSecond)),
    rawClientUs: m((x) => x.raw.clientUsPerEvent),
    rawPostgresUs: m((x) => x.raw.postgresUsPerEvent),
    rawTotalUs: m((x) => x.raw.clientUsPerEvent + x.raw.postgresUsPerEvent),
    repositoryClientUs: m((x) => x.repository?.clientUsPerEvent),
    repositoryPostgresUs: m((x) => x.repository?.postgresUsPerEvent),
    repositoryTotalUs: m((x) => (x.repository === undefined ? undefined : x.repository.clientUsPerEvent + x.repository.postgresUsPerEvent)),
    serverUs: m((x) => x.switchyard.serverUsPerEvent),
    switchyardPostgresUs: m((x) => x.switchyard.postgresUsPerEvent),
    switchyardTotalUs: m((x) => x.switchyard.serverUsPerEvent + x.switchyard.postgresUsPerEvent),
    floor: m((x) => x.floor?.eventsPerSecond),
    floorRatio: m((x) => (x.floor === undefined ? undefined : x.floor.eventsPerSecond / x.raw.eventsPerSecond)),
    floorServerUs: m((x) => x.floor?.serverUsPerEvent),
    floorPostgresUs: m((x) => x.floor?.postgresUsPerEvent),
    floorTotalUs: m((x) => (x.floor === undefined ? undefined : x.floor.serverUsPerEvent + x.floor.postgresUsPerEvent)),
    loadGeneratorUs: m((x) => x.switchyard.loadGeneratorUsPerEvent),
    offeredEventsPerSecond: m((x) =>
      x.switchyard.latency === undefined ? undefined : x.switchyard.latency.offeredRequestsPerSecond * 100,
    ),
    p50Ms: m((x) => x.switchyard.latency?.p50Ms),
    p99Ms: m((x) => x.switchyard.latency?.p99Ms),
    p999Ms: m((x) => x.switchyard.latency?.p999Ms),
    rssMB: m((x) => x.switchyard.peakRssBytes / MB),
    maxRssMB: Math.max(...r.map((x) => x.switchyard.peakRssBytes / MB)),
    failures: r.reduce((n, x) => n + x.switchyard.failures + (x.switchyard.latency?.failures ?? 0), 0),
    maxOtherLoad: Math.max(...r.map(otherLoadOf)),
    halfLoadServerUs: m((x) => x.switchyard.latency?.serverUsPerEvent),
    halfLoadPostgresUs: m((x) => x.switchyard.latency?.postgresUsPerEvent),
    bodyBytes: r[0]?.switchyard.bodyBytes ?? 0,
    payloadBytes: r[0]?.switchyard.payloadBytes ?? 0,
  };
  return {
    ...summary,
    pass: {
      ratio: summary.ratio >= targets.ratio,
      p99: summary.p99Ms <= targets.p99Ms,
      rss: summary.rssMB <= targets.rssMB,
    },
  };
}

/** "3 over 50 ms, due at 4.2, 4.3 s into the window": stalls show as bursts. */
export function slowSummary(latency: LatencyResult | undefined): string {
  if (latency === undefined) return "no latency phase";
  if (latency.slow.count === 0) return "none over 50 ms";
  const at = latency.slow.at.slice(0, 6).join(", ") + (latency.slow.at.length > 6 ? ", …" : "");
  return `${latency.slow.count} over 50 ms, due at ${at} s`;
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
const pct = (n: number) => `${Math.round(n * 100)} %`;
const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

type Summary = ReturnType<typeof summarize>;
type TableRow = [string, string, string, string];

/** The compact table printed at the end of a run. */
export function formatTable(report: BenchReport): string {
  const s = summarize(report);
  const rows: TableRow[] = [
    ["", "median", "runs (in order)", "CPU µs/event (median)"],
    ...throughputRows(report, s),
    ...targetRows(report, s),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  const lines = rows.map((row) => row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell)).join("  "));
  if (s.failures > 0) lines.push(`WARNING: ${s.failures} requests were not answered 201 (first: ${firstFailure(report)})`);
  return lines.join("\n");
}

/** One figure of every round, in order, formatted and space-separated. */
function runs(report: BenchReport, f: (r: Round) => number, fmt: (n: number) => string): string {
  return report.rounds.map((r) => fmt(f(r))).join(" ");
}

/** The table's rows for (a), (a'), (b) and (b0): events/s, and CPU per event. */
function throughputRows(report: BenchReport, s: Summary): TableRow[] {
  return [
    [
      `(a)  raw insert, ${report.connections.raw} conns`,
      `${int(s.raw)} ev/s`,
      runs(report, (r) => r.raw.eventsPerSecond, k),
      `${f1(s.rawTotalUs)} = ${f1(s.rawPostgresUs)} PostgreSQL + ${f1(s.rawClientUs)} client`,
    ],
    [
      `(a') Switchyard's insertEvents, no HTTP`,
      `${int(s.repository)} ev/s`,
      runs(report, (r) => r.repository?.eventsPerSecond ?? Number.NaN, k),
      `${f1(s.repositoryTotalUs)} = ${f1(s.repositoryPostgresUs)} PostgreSQL + ${f1(s.repositoryClientUs)} client`,
    ],
    [
      `(b)  Switchyard bulk, ${report.connections.http} conns`,
      `${int(s.switchyard)} ev/s`,
      runs(report, (r) => r.switchyard.eventsPerSecond, k),
      `${f1(s.switchyardTotalUs)} = ${f1(s.switchyardPostgresUs)} PostgreSQL + ${f1(s.serverUs)} server`,
    ],
    [
      "(b0) the floor: same work, bare node:http",
      `${int(s.floor)} ev/s`,
      runs(report, (r) => r.floor?.eventsPerSecond ?? Number.NaN, k),
      `${f1(s.floorTotalUs)} = ${f1(s.floorPostgresUs)} PostgreSQL + ${f1(s.floorServerUs)} server; b0/a ${f2(s.floorRatio)}`,
    ],
  ];
}

/** The table's rows judged against the targets (ratio, latency, memory), and what may have disturbed them. */
function targetRows(report: BenchReport, s: Summary): TableRow[] {
  return [
    ["ratio b/a (per round)", f2(s.ratio), s.ratios.map(f2).join(" "), `target >= ${targets.ratio}: ${verdict(s.pass.ratio)}`],
    [
      "ratio a'/a",
      f2(s.repositoryRatio),
      "",
      report.repositoryProblem === undefined ? "" : `(a') not measured: ${report.repositoryProblem}`,
    ],
    [
      `latency at ${int(s.offeredEventsPerSecond)} ev/s offered`,
      `p50 ${f1(s.p50Ms)} ms`,
      runs(
        report,
        (r) => r.switchyard.latency?.p99Ms ?? Number.NaN,
        (n) => `${f1(n)}`,
      ),
      `p99 ${f1(s.p99Ms)} ms (p99.9 ${f1(s.p999Ms)}); target p99 <= ${targets.p99Ms} ms: ${verdict(s.pass.p99)}`,
    ],
    [
      "server peak RSS (VmHWM)",
      `${f1(s.rssMB)} MB`,
      runs(report, (r) => r.switchyard.peakRssBytes / MB, f1),
      `largest ${f1(s.maxRssMB)} MB; target <= ${targets.rssMB} MB: ${verdict(s.pass.rss)}${s.maxRssMB > targets.rssMB ? " (but not in every run)" : ""}`,
    ],
    ["load generator CPU", `${f1(s.loadGeneratorUs)} µs/ev`, "", "(this process; not counted in (b))"],
    [
      "other load on the machine",
      `max ${pct(s.maxOtherLoad)}`,
      "",
      `(CPU of processes outside the bench, share of all cores; waited ${Math.round(report.waitedSeconds)} s for quiet)`,
    ],
  ];
}

function firstFailure(report: BenchReport): string {
  for (const r of report.rounds) {
    const first = r.switchyard.firstFailure ?? r.switchyard.latency?.firstFailure;
    if (first !== undefined) return first;
  }
  return "none";
}

/** The server process's CPU (all threads) over a run's measured window, in ms. */
function serverCpuMs(run: SwitchyardResult): number {
  const seconds = (run.windowUs[1] - run.windowUs[0]) / 1e6;
  return (run.serverUsPerEvent * run.eventsPerSecond * seconds) / 1000;
}

export function formatProfile(summary: ProfileSummary, run: SwitchyardResult): string {
  const lines = [
    `profiled run: ${int(run.eventsPerSecond)} ev/s; server main thread over the window: ${int(summary.busyMs)} ms busy, ` +
      `${int(summary.idleMs)} ms idle; server process CPU ${int(serverCpuMs(run))} ms; other load ${pct(run.otherLoad)}` +
      (summary.windowMatched ? "" : " (window not matched to the profile's clock: whole profile)"),
    ...summary.categories.slice(0, 14).map((c) => `  ${pct(c.share).padStart(5)}  ${c.category}`),
    "top self-time functions:",
    ...summary.topFunctions.slice(0, 12).map((f) => `  ${pct(f.share).padStart(5)}  ${f.name} ${f.where}  [${f.category}]`),
  ];
  return lines.join("\n");
}

/** The generated part of docs/benchmarks.md: everything between the markers is rewritten by each full run. */
export function renderResults(report: BenchReport): string {
  const s = summarize(report);
  const m = report.machine;
  const rounds = report.rounds
    .map(
      (r, i) =>
        `| ${i + 1} | ${int(r.raw.eventsPerSecond)} | ${int(r.repository?.eventsPerSecond ?? Number.NaN)} | ${int(r.switchyard.eventsPerSecond)} | ` +
        `${f2(r.switchyard.eventsPerSecond / r.raw.eventsPerSecond)} | ${int(r.floor?.eventsPerSecond ?? Number.NaN)} | ` +
        `${f2((r.floor?.eventsPerSecond ?? Number.NaN) / r.raw.eventsPerSecond)} | ${f1(r.raw.clientUsPerEvent + r.raw.postgresUsPerEvent)} | ` +
        `${f1(r.switchyard.serverUsPerEvent)} + ${f1(r.switchyard.postgresUsPerEvent)} | ${f1(r.switchyard.latency?.p50Ms ?? Number.NaN)} / ` +
        `${f1(r.switchyard.latency?.p99Ms ?? Number.NaN)} | ${f1(r.switchyard.peakRssBytes / MB)} | ` +
        `${slowSummary(r.switchyard.latency)} | ${pct(otherLoadOf(r))} |`,
    )
    .join("\n");
  return `Measured ${report.date.toISOString().slice(0, 16).replace("T", " ")} UTC with \`${report.command}\` (${report.rounds.length} alternating rounds, ${Math.round(report.elapsedSeconds)} s in all, of which ${Math.round(report.waitedSeconds)} s waiting for other processes to quiet down).
Code: ${report.revision}. Machine: ${m.cores} cores (${m.cpuModel}), ${f1(m.memoryGiB)} GiB memory, Linux ${m.kernel}, Node ${m.node}, PostgreSQL ${m.postgres}
(embedded, started by the bench; ${Object.entries(m.postgresSettings)
    .map(([name, value]) => `${name}=${value}`)
    .join(", ")}). Load generator, server and PostgreSQL share the same cores.

| medians of ${report.rounds.length} rounds | events/s | CPU µs per event | target | |
|---|---|---|---|---|
| (a) raw insert: plain pg client, ${report.connections.raw} connections, 100 rows a statement as one jsonb parameter | ${int(s.raw)} | ${f1(s.rawTotalUs)} (PostgreSQL ${f1(s.rawPostgresUs)}, client ${f1(s.rawClientUs)}) | | |
| (a') Switchyard's own \`insertEvents\` (its whole ingest statement) called from ${report.connections.raw} lanes on its own pool, no HTTP | ${int(s.repository)} | ${f1(s.repositoryTotalUs)} (PostgreSQL ${f1(s.repositoryPostgresUs)}, client ${f1(s.repositoryClientUs)}) | | |
| (b) Switchyard \`POST /api/v1/events/bulk\`, ${report.connections.http} connections closed-loop | ${int(s.switchyard)} | ${f1(s.switchyardTotalUs)} (PostgreSQL ${f1(s.switchyardPostgresUs)}, server ${f1(s.serverUs)}) | | |
| (b0) the floor: the same per-request work (parse, the spec's per-item checks, ids, the same writer and statement, the same answer) on bare \`node:http\`, without Express, the validator, authentication, logging, metrics or limits; same load as (b) | ${int(s.floor)} | ${f1(s.floorTotalUs)} (PostgreSQL ${f1(s.floorPostgresUs)}, server ${f1(s.floorServerUs)}) | | |
| ratio b/a (median of per-round ratios) | **${f2(s.ratio)}** | a'/a = ${f2(s.repositoryRatio)}; b0/a = ${f2(s.floorRatio)} | ≥ ${targets.ratio} | ${verdict(s.pass.ratio)} |
| latency at a fixed ${int(s.offeredEventsPerSecond)} events/s (half of b), open loop | p50 ${f1(s.p50Ms)} ms, **p99 ${f1(s.p99Ms)} ms** | p99.9 ${f1(s.p999Ms)} ms | p99 ≤ ${targets.p99Ms} ms | ${verdict(s.pass.p99)} |
| server peak RSS (VmHWM; MB = 10^6 bytes) | ${f1(s.rssMB)} MB | largest ${f1(s.maxRssMB)} MB | ≤ ${targets.rssMB} MB | ${verdict(s.pass.rss)}${s.maxRssMB > targets.rssMB ? " (median; not every run)" : ""} |

At half load Switchyard used ${f1(s.halfLoadServerUs)} µs (server) + ${f1(s.halfLoadPostgresUs)} µs (PostgreSQL) of CPU per event. The load
generator itself used ${f1(s.loadGeneratorUs)} µs per event (not counted in b's figure). Requests: 100 events,
${int(s.bodyBytes)} bytes of body; payloads ${s.payloadBytes} bytes serialized; ${s.failures} requests not answered 201.

| round | a ev/s | a' ev/s | b ev/s | b/a | b0 ev/s | b0/a | a µs/ev | b µs/ev (server + PostgreSQL) | p50 / p99 ms | RSS MB | slow answers at half load | other load |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
${rounds}
`;
}

export function renderProfile(report: BenchReport): string {
  const p = report.profile;
  if (p === undefined) return "Not measured in the last run (`--no-profile`).\n";
  const categories = p.summary.categories
    .filter((c) => c.share >= 0.005)
    .map((c) => `| ${c.category} | ${pct(c.share)} |`)
    .join("\n");
  const functions = p.summary.topFunctions
    .slice(0, 15)
    .map((f) => `| ${pct(f.share)} | \`${f.name}\` | ${f.where === "" ? "(native)" : `\`${f.where}\``} | ${f.category} |`)
    .join("\n");
  const busyShare = p.summary.busyMs / (p.summary.busyMs + p.summary.idleMs);
  return `Profiled ${report.date.toISOString().slice(0, 16).replace("T", " ")} UTC, code ${report.revision}: one extra closed-loop run (not in the medians) with the server under \`node --cpu-prof\`: ${int(p.run.eventsPerSecond)} events/s,
server ${f1(p.run.serverUsPerEvent)} µs + PostgreSQL ${f1(p.run.postgresUsPerEvent)} µs of CPU per event. Over the measured window the
server's main thread was busy ${pct(busyShare)} of the time (${int(p.summary.busyMs)} ms busy, ${int(p.summary.idleMs)} ms idle)${
    p.summary.windowMatched ? "" : " (whole profile: the window could not be matched to its clock)"
  }, while the whole process (all threads) used ${int(serverCpuMs(p.run))} ms of CPU: busy time above that CPU is time the thread
waited for a core (the profiler samples wall time). Other processes took ${pct(p.run.otherLoad)} of the machine. Self time of the busy part:

| category | share of busy time |
|---|---|
${categories}

| self | function | where | category |
|---|---|---|---|
${functions}
`;
}

const blocks = { results: "results", profile: "profile" } as const;

/**
 * Writes the generated blocks into docs/benchmarks.md, keeping everything outside the markers (the
 * hand-written analysis); creates the file from `skeleton` when it does not exist.
 */
export function writeBenchmarksDoc(path: string, report: BenchReport, skeleton: string): void {
  let text = existsSync(path) ? readFileSync(path, "utf8") : skeleton;
  const replace = (name: string, content: string) => {
    const start = `<!-- bench:${name}:start -->`;
    const end = `<!-- bench:${name}:end -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from === -1 || to === -1 || to < from) throw new Error(`${path} lacks the markers ${start} … ${end}`);
    text = `${text.slice(0, from + start.length)}\n${content}${text.slice(to)}`;
  };
  replace(blocks.results, renderResults(report));
  if (report.profile !== undefined) replace(blocks.profile, renderProfile(report));
  writeFileSync(path, text);
}
