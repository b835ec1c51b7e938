import { type Db, migrateToLatest } from "@switchyard/db";
import { createDatabaseAt } from "@switchyard/testing";
import { runMigrations } from "graphile-worker";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// An upgrade from the version that queued one graphile-worker `route` job per ingested batch (0007) to the
// routing outbox (0008): the jobs still queued must become outbox rows, or their events would never be routed.

let db: Db;
let close: () => Promise<void>;
let drop: () => Promise<void>;

beforeAll(async () => {
  const database = await createDatabaseAt("0007_one_event_update");
  ({ db, close, drop } = database);
  await runMigrations({ pgPool: database.pool });
});

afterAll(async () => {
  await close?.();
  await drop?.();
});

describe("migration 0008 (the routing outbox)", () => {
  it("when route jobs of the older version are queued, then the upgrade turns each into an outbox row and leaves other jobs alone", async () => {
    const batches = [
      {
        events: ["0198a000-0000-7000-8000-000000000001", "0198a000-0000-7000-8000-000000000002"],
        rules: ["6c1f0a52-1c4f-4a55-8f5e-3c1b7c1b0001"],
      },
      {
        events: ["0198a000-0000-7000-8000-000000000003"],
        rules: ["6c1f0a52-1c4f-4a55-8f5e-3c1b7c1b0001", "6c1f0a52-1c4f-4a55-8f5e-3c1b7c1b0002"],
      },
    ];
    for (const batch of batches) await sql`select graphile_worker.add_job('route', ${JSON.stringify(batch)}::json)`.execute(db);
    await sql`select graphile_worker.add_job('deliver', '{"rule_events":["6c1f0a52-1c4f-4a55-8f5e-3c1b7c1b0009"]}'::json)`.execute(db);

    expect(await migrateToLatest(db)).toContain("0008_route_outbox");

    const outbox = await sql<{ events: string[]; rules: string[] }>`
      select events::text[] as events, rules::text[] as rules from route_outbox order by id`.execute(db);
    expect(outbox.rows).toEqual(batches);
    const jobs = await sql<{ task_identifier: string }>`select task_identifier from graphile_worker.jobs`.execute(db);
    expect(jobs.rows).toEqual([{ task_identifier: "deliver" }]);
  });
});
