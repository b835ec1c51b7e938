import { readFileSync, writeFileSync } from "node:fs";
import type { DeliveryRunResult, TrivialJobsResult } from "./measureDelivery.js";
import { workerSettings } from "./measureDelivery.js";
import type { RawInsertResult } from "./measureRawInsert.js";
import type { SwitchyardResult } from "./measureSwitchyard.js";
import type { BenchReport } from "./report.js";
import { median } from "./stats.js";

/** One round's delivery parts, with the same round's (a) and (b) for (g)'s comparison. */
export interface DeliveryRound {
  readonly raw: RawInsertResult;
  readonly baseline: SwitchyardResult;
  readonly routed: SwitchyardResult;
  /** (g'): as (g), with no worker in the server process: routing's cost to ingestion alone. */
  readonly routedNoWorker: SwitchyardResult;
  readonly jobs: TrivialJobsResult;
  readonly delivery: DeliveryRunResult;
  /** (m): (e) to a Slack connection with a 5-field mapping and a templated rule (the receiver as Slack's API). */
  readonly mapped: DeliveryRunResult;
}

export interface DeliverySettings {
  readonly trivialJobs: number;
  readonly burstEvents: number;
  readonly e2e: { readonly requestsPerSecond: number; readonly eventsPerRequest: number; readonly durationMs: number };
}

export const deliveryTargets = { ratio: 0.3, goal: 0.5, p50Ms: 50, p99Ms: 250, routingLoss: 0.1, mappedRatio: 0.8 } as const;

const n0 = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "–");
const n1 = (v: number) => (v === Number.POSITIVE_INFINITY ? "∞" : Number.isFinite(v) ? v.toFixed(1) : "–");
const n2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "–");
const pass = (ok: boolean) => (ok ? "PASS" : "FAIL");
const med = (rounds: readonly DeliveryRound[], f: (r: DeliveryRound) => number) => median(rounds.map(f));

export function summarizeDelivery(rounds: readonly DeliveryRound[]) {
  return {
    jobsPerSecond: med(rounds, (r) => r.jobs.jobsPerSecond),
    jobUs: med(rounds, (r) => r.jobs.workerUsPerJob + r.jobs.postgresUsPerJob),
    jobWorkerUs: med(rounds, (r) => r.jobs.workerUsPerJob),
    jobPostgresUs: med(rounds, (r) => r.jobs.postgresUsPerJob),
    deliveriesPerSecond: med(rounds, (r) => r.delivery.deliveriesPerSecond),
    incomplete: rounds.filter((r) => !r.delivery.complete).length,
    deliveryServerUs: med(rounds, (r) => r.delivery.serverUsPerDelivery),
    deliveryPostgresUs: med(rounds, (r) => r.delivery.postgresUsPerDelivery),
    deliveryBenchUs: med(rounds, (r) => r.delivery.benchUsPerDelivery),
    ratio: med(rounds, (r) => r.delivery.deliveriesPerSecond / r.jobs.jobsPerSecond),
    p50Ms: med(rounds, (r) => r.delivery.endToEnd?.p50Ms ?? Number.NaN),
    p99Ms: med(rounds, (r) => r.delivery.endToEnd?.p99Ms ?? Number.NaN),
    missing: Math.max(0, ...rounds.map((r) => r.delivery.endToEnd?.missing ?? 0)),
    e2eServerUs: med(rounds, (r) => r.delivery.endToEnd?.serverUsPerEvent ?? Number.NaN),
    e2ePostgresUs: med(rounds, (r) => r.delivery.endToEnd?.postgresUsPerEvent ?? Number.NaN),
    routedPerSecond: med(rounds, (r) => r.routed.eventsPerSecond),
    routedRatio: med(rounds, (r) => r.routed.eventsPerSecond / r.raw.eventsPerSecond),
    baselineRatio: med(rounds, (r) => r.baseline.eventsPerSecond / r.raw.eventsPerSecond),
    routedOverBaseline: med(rounds, (r) => r.routed.eventsPerSecond / r.baseline.eventsPerSecond),
    routedServerUs: med(rounds, (r) => r.routed.serverUsPerEvent),
    routedPostgresUs: med(rounds, (r) => r.routed.postgresUsPerEvent),
    routedNoWorkerPerSecond: med(rounds, (r) => r.routedNoWorker.eventsPerSecond),
    routedNoWorkerRatio: med(rounds, (r) => r.routedNoWorker.eventsPerSecond / r.raw.eventsPerSecond),
    routedNoWorkerOverBaseline: med(rounds, (r) => r.routedNoWorker.eventsPerSecond / r.baseline.eventsPerSecond),
    routedNoWorkerServerUs: med(rounds, (r) => r.routedNoWorker.serverUsPerEvent),
    routedNoWorkerPostgresUs: med(rounds, (r) => r.routedNoWorker.postgresUsPerEvent),
    mappedPerSecond: med(rounds, (r) => r.mapped.deliveriesPerSecond),
    mappedRatio: med(rounds, (r) => r.mapped.deliveriesPerSecond / r.delivery.deliveriesPerSecond),
    mappedIncomplete: rounds.filter((r) => !r.mapped.complete).length,
    mappedServerUs: med(rounds, (r) => r.mapped.serverUsPerDelivery),
    mappedPostgresUs: med(rounds, (r) => r.mapped.postgresUsPerDelivery),
  };
}

export function formatDeliveryTable(rounds: readonly DeliveryRound[], settings: DeliverySettings, uncapped?: DeliveryRunResult): string {
  if (rounds.length === 0) return "";
  const s = summarizeDelivery(rounds);
  const e2e = settings.e2e;
  const rate = e2e.requestsPerSecond * e2e.eventsPerRequest;
  const version = rounds[0]?.jobs.version ?? "?";
  const lines = [
    `| medians of ${rounds.length} round${rounds.length === 1 ? "" : "s"} | figure | CPU µs per job / delivery / event | target | |`,
    "|---|---|---|---|---|",
    `| (d) graphile-worker ${version}, ${n0(settings.trivialJobs)} trivial jobs added beforehand, concurrency ${workerSettings.concurrency}, poll ${workerSettings.pollIntervalMs} ms, no local queue (the delivery worker's settings) | ${n0(s.jobsPerSecond)} jobs/s | ${n1(s.jobUs)} (PostgreSQL ${n1(s.jobPostgresUs)}, worker ${n1(s.jobWorkerUs)}) | | |`,
    `| (e) deliveries: a burst of ${n0(settings.burstEvents)} events (100 a request, 8 connections), ingestion → in-process worker → local receiver answering 200; from the first request to the last webhook | ${n0(s.deliveriesPerSecond)} deliveries/s | ${n1(s.deliveryServerUs + s.deliveryPostgresUs)} (server ${n1(s.deliveryServerUs)}, PostgreSQL ${n1(s.deliveryPostgresUs)}; ingestion included; bench + receiver ${n1(s.deliveryBenchUs)}) | | |`,
    `| ratio e/d (median of per-round ratios) | **${n2(s.ratio)}** | | ≥ ${deliveryTargets.ratio} (goal ${deliveryTargets.goal}) | ${pass(s.ratio >= deliveryTargets.ratio && s.incomplete === 0)}${s.ratio >= deliveryTargets.goal ? " (goal met)" : " (goal not met)"}${s.incomplete > 0 ? `; ${s.incomplete} round(s) did not deliver the whole burst by the deadline` : ""} |`,
    `| (m) mapped delivery: (e)'s burst to a Slack connection (a local stand-in for its API answering \`{"ok":true}\`) whose default mapping has 5 fields with transforms and whose rule renders a 5-placeholder template; ratio m/e (median of per-round ratios) | ${n0(s.mappedPerSecond)} deliveries/s, **${n2(s.mappedRatio)}** | ${n1(s.mappedServerUs + s.mappedPostgresUs)} (server ${n1(s.mappedServerUs)}, PostgreSQL ${n1(s.mappedPostgresUs)}) | ≥ ${deliveryTargets.mappedRatio} | ${pass(s.mappedRatio >= deliveryTargets.mappedRatio && s.mappedIncomplete === 0)}${s.mappedIncomplete > 0 ? `; ${s.mappedIncomplete} round(s) did not deliver the whole burst by the deadline` : ""} |`,
    `| (f) end-to-end latency, 201 at the client → webhook at the receiver, open loop ${n0(rate)} events/s (${e2e.requestsPerSecond} requests/s of ${e2e.eventsPerRequest} events) for ${e2e.durationMs / 1000} s | p50 **${n1(s.p50Ms)} ms**, p99 **${n1(s.p99Ms)} ms** | ${n1(s.e2eServerUs + s.e2ePostgresUs)} (server ${n1(s.e2eServerUs)}, PostgreSQL ${n1(s.e2ePostgresUs)}) per event delivered | p50 ≤ ${deliveryTargets.p50Ms}, p99 ≤ ${deliveryTargets.p99Ms} ms | ${pass(s.p50Ms <= deliveryTargets.p50Ms && s.p99Ms <= deliveryTargets.p99Ms && s.missing === 0)}${s.missing > 0 ? ` (${s.missing} not delivered)` : ""} |`,
    `| (g) (b) with routing on (every event matches the rule; the in-process worker writing the deliveries and delivering them meanwhile), ratio g/a | ${n0(s.routedPerSecond)} events/s, **${n2(s.routedRatio)}** | ${n1(s.routedServerUs + s.routedPostgresUs)} (server ${n1(s.routedServerUs)}, PostgreSQL ${n1(s.routedPostgresUs)}) per event | within 10 % of b/a = ${n2(s.baselineRatio)} | ${pass(s.routedOverBaseline >= 1 - deliveryTargets.routingLoss)} (g/b = ${n2(s.routedOverBaseline)}) |`,
    `| (g') (g) with no worker in the server (SWITCHYARD_RUN_WORKER=false): each batch commits its events' rule counts and one row of the routing outbox (the server's wake adds the keyed route job); the deliveries are written and sent later, by workers, outside the window (as when workers run on other machines); ratio g'/a | ${n0(s.routedNoWorkerPerSecond)} events/s, **${n2(s.routedNoWorkerRatio)}** | ${n1(s.routedNoWorkerServerUs + s.routedNoWorkerPostgresUs)} (server ${n1(s.routedNoWorkerServerUs)}, PostgreSQL ${n1(s.routedNoWorkerPostgresUs)}) per event | within 10 % of b/a = ${n2(s.baselineRatio)} | ${pass(s.routedNoWorkerOverBaseline >= 1 - deliveryTargets.routingLoss)} (g'/b = ${n2(s.routedNoWorkerOverBaseline)}) |`,
    ...(uncapped === undefined
      ? []
      : [
          `| diagnostic, not in the medians: (e) and (f) once with SWITCHYARD_DELIVERY_MAX_IN_FLIGHT=100000 and SWITCHYARD_DELIVERY_MAX_PER_CONNECTION=10000, so that no delivery is ever deferred | ${n0(uncapped.deliveriesPerSecond)} deliveries/s (${n0(uncapped.delivered)} of ${n0(uncapped.events)}${uncapped.complete ? `; all recorded completed after ${n1(uncapped.recordedSeconds)} s` : ", deadline"}), e/d ${n2(uncapped.deliveriesPerSecond / s.jobsPerSecond)}; (f) p50 ${n1(uncapped.endToEnd?.p50Ms ?? Number.NaN)} ms, p99 ${n1(uncapped.endToEnd?.p99Ms ?? Number.NaN)} ms over ${(uncapped.endToEnd?.seconds ?? 0).toFixed(0)} s | ${n1(uncapped.serverUsPerDelivery + uncapped.postgresUsPerDelivery)} (server ${n1(uncapped.serverUsPerDelivery)}, PostgreSQL ${n1(uncapped.postgresUsPerDelivery)}) per delivery | | |`,
        ]),
    "",
    "| round | d jobs/s | e deliveries/s | e/d | m deliveries/s | m/e | e: delivered of sent; ingested in / delivered in / all recorded in s | f p50 / p99 / max ms | f ingest p50 / p99 ms | b ev/s | g ev/s | g/b | g' ev/s | g'/b | rule_events after e | other load |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rounds.map((r, i) => {
      const d = r.delivery;
      const f = d.endToEnd;
      const other = Math.max(
        r.jobs.otherLoad,
        d.otherLoad,
        r.mapped.otherLoad,
        f?.otherLoad ?? 0,
        r.routed.otherLoad,
        r.routedNoWorker.otherLoad,
      );
      return (
        `| ${i + 1} | ${n0(r.jobs.jobsPerSecond)} | ${n0(d.deliveriesPerSecond)} | ${n2(d.deliveriesPerSecond / r.jobs.jobsPerSecond)} | ` +
        `${n0(r.mapped.deliveriesPerSecond)}${r.mapped.complete ? "" : " (deadline)"} | ${n2(r.mapped.deliveriesPerSecond / d.deliveriesPerSecond)} | ` +
        `${n0(d.delivered)} of ${n0(d.events)}${d.complete ? "" : " (deadline)"}; ${n1(d.ingestSeconds)} / ${n1(d.deliverSeconds)} / ${d.complete ? n1(d.recordedSeconds) : "–"} | ${f === undefined ? "–" : `${n1(f.p50Ms)} / ${n1(f.p99Ms)} / ${n1(f.maxMs)}`} | ` +
        `${f === undefined ? "–" : `${n1(f.ingestP50Ms)} / ${n1(f.ingestP99Ms)}`} | ${n0(r.baseline.eventsPerSecond)} | ${n0(r.routed.eventsPerSecond)} | ` +
        `${n2(r.routed.eventsPerSecond / r.baseline.eventsPerSecond)} | ${n0(r.routedNoWorker.eventsPerSecond)} | ` +
        `${n2(r.routedNoWorker.eventsPerSecond / r.baseline.eventsPerSecond)} | ${Object.entries(d.statuses)
          .map(([k, v]) => `${k} ${n0(v)}`)
          .join(", ")}${d.repeats > 0 ? `; ${d.repeats} repeats` : ""} | ${Math.round(other * 100)} % |`
      );
    }),
  ];
  return lines.join("\n");
}

const start = "<!-- bench:delivery:start -->";
const end = "<!-- bench:delivery:end -->";

/** Rewrites the `bench:delivery` block of docs/benchmarks.md (appending a section with the markers if absent). */
export function writeDeliveryBlock(
  path: string,
  rounds: readonly DeliveryRound[],
  settings: DeliverySettings,
  report: BenchReport,
  uncapped?: DeliveryRunResult,
): void {
  let text = readFileSync(path, "utf8");
  if (!text.includes(start) || !text.includes(end)) text = `${text.trimEnd()}\n\n## Delivery\n\n${start}\n${end}\n`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const when = `${report.date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const content =
    `Measured ${when} with \`${report.command}\`, in the same run and rounds as the results above (code ${report.revision}).\n\n` +
    `${formatDeliveryTable(rounds, settings, uncapped)}\n`;
  text = `${text.slice(0, from + start.length)}\n${content}${text.slice(to)}`;
  writeFileSync(path, text);
}
