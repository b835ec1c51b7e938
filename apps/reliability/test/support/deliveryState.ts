import type pg from "pg";

/** Where the deliveries stand, and the delivery jobs behind them: what a failed wait prints. */
export interface DeliveryState {
  /** Deliveries not yet completed, failed or canceled, plus events still waiting in the routing outbox. */
  readonly unfinished: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** graphile-worker jobs still queued: those a worker holds locked, those due, and those waiting to be due. */
  readonly jobs: { readonly queued: number; readonly locked: number; readonly due: number; readonly later: number };
  /** Events ingested as matching a rule whose deliveries are not written yet (in the routing outbox). */
  readonly unrouted: number;
}

export async function deliveryState(pool: pg.Pool): Promise<DeliveryState> {
  const statuses = await pool.query<{ status: string; n: number }>("select status, count(*)::int as n from rule_events group by status");
  // A job whose worker was killed stays locked for hours after its work was done again by another: harmless,
  // and not waited for (it is not in `unfinished`).
  const jobs = await pool.query<{ queued: number; locked: number; due: number; later: number }>(
    `select count(*)::int as queued, count(j.locked_at)::int as locked,
       count(*) filter (where j.locked_at is null and j.run_at <= now())::int as due,
       count(*) filter (where j.locked_at is null and j.run_at > now())::int as later
     from graphile_worker.jobs j`,
  );
  const outbox = await pool.query<{ n: number }>("select coalesce(sum(cardinality(events)), 0)::int as n from route_outbox");
  const byStatus = Object.fromEntries(statuses.rows.map((r) => [r.status, r.n]));
  const queued = jobs.rows[0] ?? { queued: 0, locked: 0, due: 0, later: 0 };
  const unrouted = outbox.rows[0]?.n ?? 0;
  const waiting = statuses.rows.filter((r) => !["completed", "failed", "canceled"].includes(r.status)).reduce((sum, r) => sum + r.n, 0);
  return { unfinished: waiting + unrouted, byStatus, jobs: queued, unrouted };
}
