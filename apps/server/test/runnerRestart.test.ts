import { waitFor } from "@switchyard/testing";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import type { Logger } from "../src/logger.js";
import type { Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import { emitEvent, routeToReceiver } from "./support/webhookRoutes.js";

let server: TestServer;
let tenant: Tenant;
/** Every message the server and its worker logged, in order. */
const logged: string[] = [];
const capture: Logger = {
  info: (_fields, message) => void logged.push(message),
  warn: (_fields, message) => void logged.push(message),
  error: (_fields, message) => void logged.push(message),
};

const { closers } = useTestServer({ tenant: "Runner restart", worker: {}, log: capture }, (file) => {
  ({ server, tenant } = file);
});

// Registered after useTestServer, so it runs before the server closes.
afterAll(async () => {
  await sql`drop trigger if exists refuse_job_end on graphile_worker._private_jobs`.execute(server.db);
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
    await waitFor(() => logged.filter((m) => m === "graphile-worker runner stopped by itself; starting a new one").length, {
      what: "the runner to stop after the first event's route job",
      until: (n) => n >= 1,
    });
    // Delivered all the same: the job's work was done; only its end went unrecorded.
    expect(receiver.requests.map((r) => JSON.parse(r.body.toString()).uuid)).toContain(first.id);

    await sql`drop trigger refuse_job_end on graphile_worker._private_jobs`.execute(server.db);
    await waitFor(() => logged.includes("graphile-worker runner started again"), { what: "a new runner", until: (started) => started });
    const second = await emitEvent(server, tenant, { event: "runner.event" });
    await waitFor(() => receiver.requests.map((r) => JSON.parse(r.body.toString()).uuid), {
      what: "the second event at the receiver",
      until: (ids) => ids.includes(second.id),
    });
  });
});
