import { waitFor } from "@switchyard/testing";
import { sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

// graphile-worker's add_job adds no job, and returns no row, when the job it would replace is locked by a worker
// between its two statements (graphile/worker#580). Two sessions make that interleaving happen on demand: a
// "worker" session takes the waiting job (sets locked_at) in an open transaction; the adding session's update
// still sees the job available and its insert waits on the row; the worker commits; the insert then skips the
// now-locked job. switchyard_add_job (migration 0018) must add the job anyway.
let server: TestServer;
let databaseUrl: string;

useTestServer({}, (file) => {
  ({ server, databaseUrl } = file);
});

async function jobsWithKey(key: string) {
  const { rows } = await sql<{ id: string; locked_at: Date | null; run_at: Date }>`
    select id::text as id, locked_at, run_at from graphile_worker._private_jobs where key = ${key}`.execute(server.db);
  return rows;
}

/**
 * Runs `add` (a statement adding a job with `key`) while another session takes the waiting job with that key: the
 * add starts while the take is uncommitted, and the take commits once the add waits on the job's row.
 */
async function addWhileTaken(key: string, add: string): Promise<pg.QueryResult> {
  await sql`select graphile_worker.add_job('test_noop', '{}'::json, run_at := now() + interval '1 hour', job_key := ${key})`.execute(
    server.db,
  );
  const worker = new pg.Client({ connectionString: databaseUrl });
  const adder = new pg.Client({ connectionString: databaseUrl });
  await Promise.all([worker.connect(), adder.connect()]);
  try {
    await worker.query("begin");
    await worker.query("update graphile_worker._private_jobs set locked_at = now(), locked_by = 'a worker' where key = $1", [key]);
    const adderPid = (await adder.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]?.pid;
    const added = adder.query(add, [key]);
    await waitFor(
      async () => (await worker.query("select wait_event_type from pg_stat_activity where pid = $1", [adderPid])).rows[0]?.wait_event_type,
      { what: "the add to wait on the job's row", until: (wait) => wait === "Lock" },
    );
    await worker.query("commit");
    return await added;
  } finally {
    await Promise.all([worker.end(), adder.end()]);
  }
}

describe("keyed jobs while the job they replace is being taken", () => {
  it("when graphile-worker's add_job meets the race, then it adds nothing (what left deliveries retrying without a job)", async () => {
    const result = await addWhileTaken(
      "race.plain",
      "select (graphile_worker.add_job('test_noop', '{}'::json, run_at := now() + interval '5 seconds', job_key := $1)).id",
    );
    expect(result.rows[0]?.id).toBeNull();
    // Only the job being taken holds the key: nothing will run at the new time.
    const jobs = await jobsWithKey("race.plain");
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.locked_at).not.toBeNull();
  });

  it("when switchyard_add_job meets the race, then the new job is added, waiting, at the time asked", async () => {
    const result = await addWhileTaken(
      "race.wrapped",
      "select job_id::text from switchyard_add_job('test_noop', '{}'::json, now() + interval '5 seconds', $1)",
    );
    expect(result.rows[0]?.job_id).toMatch(/^\d+$/);
    const jobs = await jobsWithKey("race.wrapped");
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ id: result.rows[0]?.job_id, locked_at: null });
    const dueInMs = (jobs[0]?.run_at.getTime() ?? 0) - Date.now();
    expect(dueInMs).toBeGreaterThan(3_000);
    expect(dueInMs).toBeLessThan(10_000);
  });

  it("when nothing races, then switchyard_add_job replaces the waiting job as add_job does, and preserve_run_at keeps its time", async () => {
    await sql`select switchyard_add_job('test_noop', '{}'::json, now() + interval '1 hour', 'quiet')`.execute(server.db);
    await sql`select switchyard_add_job('test_noop', '{}'::json, now() + interval '1 minute', 'quiet')`.execute(server.db);
    const replaced = await jobsWithKey("quiet");
    expect(replaced).toHaveLength(1);
    expect((replaced[0]?.run_at.getTime() ?? 0) - Date.now()).toBeLessThan(61_000);
    await sql`select switchyard_add_job('test_noop', '{}'::json, now() + interval '1 hour', 'quiet', 'preserve_run_at')`.execute(server.db);
    const preserved = await jobsWithKey("quiet");
    expect(preserved[0]?.run_at.getTime()).toBe(replaced[0]?.run_at.getTime());
  });
});
