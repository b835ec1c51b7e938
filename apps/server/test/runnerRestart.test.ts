import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../src/logger.js";
import { createTenant, type Tenant } from "./support/fixtures.js";
import { waitFor } from "./support/receiver.js";
import { createTestDatabase } from "./support/testDatabase.js";
import { startTestServer, type TestServer } from "./support/testServer.js";
import { emitEvent, routeToReceiver } from "./support/webhookRoutes.js";

let server: TestServer;
let tenant: Tenant;
let dropDatabase: () => Promise<void>;
const closers: Array<() => Promise<void>> = [];
/** Every message the server and its worker logged, in order. */
const logged: string[] = [];
const capture: Logger = {
  info: (_fields, message) => void logged.push(message),
  warn: (_fields, message) => void logged.push(message),
  error: (_fields, message) => void logged.push(message),
};

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  server = await startTestServer(database.url, { worker: {}, log: capture });
  tenant = await createTenant(server.db, server.secretBox, "Runner restart");
});

afterAll(async () => {
  await sql`drop trigger if exists refuse_job_end on graphile_worker._private_jobs`.execute(server.db);
  for (const close of closers) await close();
  await server?.close();
  await dropDatabase?.();
});

describe("the worker's job runner", () => {
  it("when graphile-worker stops its runner because a job's end could not be recorded, then a new runner takes the next jobs", async () => {
    const { receiver } = await routeToReceiver(server, tenant, "runner.event", { closers });
    // Every job's end (graphile-worker deletes a finished job) now fails, as it would with the database gone
    // at that moment: graphile-worker then stops the whole runner ("one of the workers exited prematurely").
    await sql`
      create or replace function refuse_job_end() returns trigger language plpgsql as $$
      begin raise exception 'the test refuses to record the end of job %', old.id; end $$`.execute(server.db);
    await sql`
      create trigger refuse_job_end before delete on graphile_worker._private_jobs
      for each row execute function refuse_job_end()`.execute(server.db);

    const first = await emitEvent(server, tenant, { event: "runner.event" });
    await waitFor(
      "the runner to stop after the first event's route job",
      () => logged.filter((m) => m === "graphile-worker runner stopped by itself; starting a new one").length,
      (n) => n >= 1,
    );
    // Delivered all the same: the job's work was done; only its end went unrecorded.
    expect(receiver.requests.map((r) => JSON.parse(r.body.toString()).uuid)).toContain(first.id);

    await sql`drop trigger refuse_job_end on graphile_worker._private_jobs`.execute(server.db);
    await waitFor(
      "a new runner",
      () => logged.includes("graphile-worker runner started again"),
      (started) => started,
    );
    const second = await emitEvent(server, tenant, { event: "runner.event" });
    await waitFor(
      "the second event at the receiver",
      () => receiver.requests.map((r) => JSON.parse(r.body.toString()).uuid),
      (ids) => ids.includes(second.id),
    );
  });
});
