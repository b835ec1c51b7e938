import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ShedReason } from "../http/loadShedding.js";

/** What ingestion did with one event: stored it, answered it with an error record, or recognised a repeat. */
export type IngestOutcome = "accepted" | "rejected" | "duplicate";

/** The pool numbers the gauges read at scrape time (a `pg.Pool` has them). */
export interface PoolStats {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/**
 * The server's Prometheus instruments, all in one registry of their own (not prom-client's global one),
 * so that several apps in one process (tests) do not share or collide.
 */
export interface Metrics {
  readonly registry: Registry;
  /** `http_requests_total{route,method,status}`. */
  readonly httpRequests: Counter<"route" | "method" | "status">;
  /** `http_request_duration_seconds{route,method,status}`: from the request's arrival to the end of its response. */
  readonly httpRequestDuration: Histogram<"route" | "method" | "status">;
  /** `switchyard_events_ingested_total{outcome}`: `metrics.eventsIngested.inc({ outcome: "accepted" }, n)`. */
  readonly eventsIngested: Counter<"outcome">;
  /** `switchyard_requests_shed_total{reason}`: ingestion requests answered 503 at capacity (`shedLoad`). */
  readonly requestsShed: Counter<"reason">;
}

export interface MetricsOptions {
  /** The database pool to report (`switchyard_db_pool_*`). Default: none. */
  readonly pool?: PoolStats;
  /** Add prom-client's process and Node.js metrics (`process_*`, `nodejs_*`). Default true. */
  readonly processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const labelNames = ["route", "method", "status"] as const;
  const httpRequests = new Counter({ name: "http_requests_total", help: "HTTP requests answered.", labelNames, registers });
  const httpRequestDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time from a request's arrival to the end of its response.",
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const eventsIngested = new Counter({
    name: "switchyard_events_ingested_total",
    help: "Events answered by the ingestion endpoints, by outcome: accepted (stored), rejected (an error record), duplicate.",
    labelNames: ["outcome"] as const,
    registers,
  });
  // Every outcome is reported from the start, so a rate over it is defined before the first event.
  for (const outcome of ["accepted", "rejected", "duplicate"] satisfies IngestOutcome[]) eventsIngested.inc({ outcome }, 0);
  const requestsShed = new Counter({
    name: "switchyard_requests_shed_total",
    help: "Ingestion requests answered 503 before their body was read, the server being at capacity: in_progress (too many requests in progress) or queue_wait (the write queue is behind).",
    labelNames: ["reason"] as const,
    registers,
  });
  for (const reason of ["in_progress", "queue_wait"] satisfies ShedReason[]) requestsShed.inc({ reason }, 0);

  const pool = options.pool;
  if (pool !== undefined) {
    const poolGauge = (name: string, help: string, read: (pool: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(pool));
        },
      });
    poolGauge("switchyard_db_pool_connections", "Connections the database pool holds, busy or idle.", (p) => p.totalCount);
    poolGauge("switchyard_db_pool_idle_connections", "Connections in the database pool that are idle.", (p) => p.idleCount);
    poolGauge("switchyard_db_pool_waiting_clients", "Queries waiting for a connection from the database pool.", (p) => p.waitingCount);
  }

  return { registry, httpRequests, httpRequestDuration, eventsIngested, requestsShed };
}

/** Counts a batch of ingestion answers: stored events as accepted, replays (`duplicate: true`) as duplicate, errors as rejected. */
export function countIngested(
  metrics: Pick<Metrics, "eventsIngested">,
  outcomes: ReadonlyArray<{ readonly ok: boolean; readonly event?: { readonly duplicate?: boolean | undefined } }>,
): void {
  const counts: Record<IngestOutcome, number> = { accepted: 0, rejected: 0, duplicate: 0 };
  for (const o of outcomes) counts[!o.ok ? "rejected" : o.event?.duplicate === true ? "duplicate" : "accepted"] += 1;
  for (const outcome of ["accepted", "rejected", "duplicate"] as const) {
    if (counts[outcome] > 0) metrics.eventsIngested.inc({ outcome }, counts[outcome]);
  }
}
