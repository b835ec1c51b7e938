import type pg from "pg";

/** Where the deliveries stand, and the delivery jobs behind them: what a failed wait prints. */
export interface DeliveryState {
  /** Deliveries not yet completed, failed or canceled, plus route jobs whose events' deliveries are not written yet. */
  readonly unfinished: number;
  readonly byStatus: Readonly<Record<string, number>>;
  /**
   * graphile-worker jobs still queued: those a worker holds locked, those due, those waiting to be due, and
   * the route jobs whose events are not routed yet.
   */
  readonly jobs: { readonly queued: number; readonly locked: number; readonly due: number; readonly later: number; readonly route: number };
}

export async function deliveryState(pool: pg.Pool): Promise<DeliveryState> {
  const statuses = await pool.query<{ status: string; n: number }>("select status, count(*)::int as n from rule_events group by status");
  // A route job counts as unfinished while its events are unrouted (routing writes all of a job's events at
  // once, so its first event tells). A route job whose worker was killed stays locked for hours after its
  // events were routed again by another job: harmless, and not waited for.
  const jobs = await pool.query<{ queued: number; locked: number; due: number; later: number; route: number }>(
    `select count(*)::int as queued, count(j.locked_at)::int as locked,
       count(*) filter (where j.task_identifier = 'route' and not exists (
         select 1 from rule_events re where re.event_id = (p.payload -> 'events' ->> 0)::uuid))::int as route,
       count(*) filter (where j.locked_at is null and j.run_at <= now())::int as due,
       count(*) filter (where j.locked_at is null and j.run_at > now())::int as later
     from graphile_worker.jobs j join graphile_worker._private_jobs p on p.id = j.id`,
  );
  const byStatus = Object.fromEntries(statuses.rows.map((r) => [r.status, r.n]));
  const queued = jobs.rows[0] ?? { queued: 0, locked: 0, due: 0, later: 0, route: 0 };
  const waiting = statuses.rows.filter((r) => !["completed", "failed", "canceled"].includes(r.status)).reduce((sum, r) => sum + r.n, 0);
  return { unfinished: waiting + queued.route, byStatus, jobs: queued };
}
