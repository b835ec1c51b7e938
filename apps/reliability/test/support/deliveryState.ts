import type pg from "pg";

/** Where the deliveries stand, and the delivery jobs behind them: what a failed wait prints. */
export interface DeliveryState {
  /** Deliveries not yet completed, failed or canceled, plus route jobs whose events' deliveries are not written yet. */
  readonly unfinished: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /** graphile-worker jobs still queued (its public `jobs` view): those a worker holds locked, those due, those waiting to be due. */
  readonly jobs: { readonly queued: number; readonly locked: number; readonly due: number; readonly later: number; readonly route: number };
}

export async function deliveryState(pool: pg.Pool): Promise<DeliveryState> {
  const statuses = await pool.query<{ status: string; n: number }>("select status, count(*)::int as n from rule_events group by status");
  const jobs = await pool.query<{ queued: number; locked: number; due: number; later: number; route: number }>(
    `select count(*)::int as queued, count(locked_at)::int as locked,
       count(*) filter (where task_identifier = 'route')::int as route,
       count(*) filter (where locked_at is null and run_at <= now())::int as due,
       count(*) filter (where locked_at is null and run_at > now())::int as later
     from graphile_worker.jobs`,
  );
  const byStatus = Object.fromEntries(statuses.rows.map((r) => [r.status, r.n]));
  const queued = jobs.rows[0] ?? { queued: 0, locked: 0, due: 0, later: 0, route: 0 };
  const waiting = statuses.rows.filter((r) => !["completed", "failed", "canceled"].includes(r.status)).reduce((sum, r) => sum + r.n, 0);
  return { unfinished: waiting + queued.route, byStatus, jobs: queued };
}
