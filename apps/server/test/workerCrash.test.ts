import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { sleep, waitFor } from "@switchyard/testing";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import type { Tenant } from "./support/fixtures.js";
import { routeQueuedEvents } from "./support/routing.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import { attemptsOf, deliveryOf, emitEvent, eventDetail, routeToReceiver } from "./support/webhookRoutes.js";

// The standalone worker as operators run it (built by `turbo run build`), beside an API server that runs none.
const workerMain = fileURLToPath(new URL("../../worker/dist/main.js", import.meta.url));

let server: TestServer;
let databaseUrl: string;
let tenant: Tenant;
const encryptionKey = randomBytes(32);
const workers = new Set<WorkerProcess>();

interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything it wrote, stdout and stderr, for failure messages. */
  readonly output: string[];
  readonly exited: Promise<void>;
}

/** Starts `node apps/worker/dist/main.js` and waits until it says it runs. */
async function startWorkerProcess(env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [workerMain], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      SWITCHYARD_ENCRYPTION_KEY: encryptionKey.toString("base64"),
      SWITCHYARD_DESTINATION_ALLOWLIST: "127.0.0.1/32",
      SWITCHYARD_DELIVERY_TIMEOUT_MS: "500",
      SWITCHYARD_DELIVERY_LEASE_MARGIN_MS: "500",
      SWITCHYARD_LEASE_SWEEP_MS: "200",
      SWITCHYARD_WORKER_POLL_MS: "100",
      SWITCHYARD_RETRY_SCHEDULE_SCALE: "0.001",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const worker = { child, output, exited };
  workers.add(worker);
  await waitFor(
    () => ({ running: output.join("").includes("delivery worker running"), exitCode: child.exitCode, output: output.join("") }),
    { what: "the worker to start", until: (state) => state.running || state.exitCode !== null, timeoutMs: 15_000 },
  );
  if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}: ${output.join("")}`);
  return worker;
}

/** Ends a worker process (SIGTERM, then SIGKILL if it lingers) and waits for it to exit. */
async function stopWorkerProcess(worker: WorkerProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill(signal);
    const lingering = setTimeout(() => worker.child.kill("SIGKILL"), 5_000);
    await worker.exited;
    clearTimeout(lingering);
  }
  workers.delete(worker);
}

const { closers } = useTestServer({ tenant: "Crash", encryptionKey }, (file) => {
  ({ server, tenant, databaseUrl } = file);
});

// Registered after useTestServer, so it runs first: no worker outlives the file's database.
afterAll(async () => {
  for (const worker of [...workers]) await stopWorkerProcess(worker, "SIGKILL");
});

describe("a worker killed mid-delivery", () => {
  it("when the worker is killed while a receiver holds its request, then another worker delivers it again with the same webhook-id and nothing is lost", async () => {
    const first = await startWorkerProcess();
    const hanging = await routeToReceiver(server, tenant, "crash.during", { script: ["hang", { status: 200 }], closers });
    const bystander = await routeToReceiver(server, tenant, "crash.after", { closers });

    const event = await emitEvent(server, tenant, { event: "crash.during", payload: { n: 1 } });
    await waitFor(() => hanging.receiver.requests.length, { what: "the receiver to hold the first attempt", until: (n) => n === 1 });
    await stopWorkerProcess(first, "SIGKILL");
    expect(first.child.signalCode).toBe("SIGKILL");
    expect((await deliveryOf(server, tenant, event.id, hanging.ruleId)).status).toBe("processing");

    // Accepted while no worker runs: queued, not lost.
    const meanwhile = await Promise.all([1, 2, 3].map((n) => emitEvent(server, tenant, { event: "crash.after", payload: { n } })));

    const second = await startWorkerProcess();
    try {
      const done = await waitFor(() => eventDetail(server, tenant, event.id), {
        what: "the lost attempt to be delivered again",
        until: (e) => e.status === "completed",
        timeoutMs: 15_000,
      });
      expect(done.rule_events[0]).toMatchObject({ status: "completed", attempt_count: 2 });
      expect(done.rule_events[0]).not.toHaveProperty("last_error");
      expect(hanging.receiver.requests).toHaveLength(2);
      const [lost, redelivered] = hanging.receiver.requests;
      expect(redelivered?.headers["webhook-id"]).toBe(lost?.headers["webhook-id"]);
      expect(JSON.parse(redelivered?.body.toString() ?? "{}")).toMatchObject({ uuid: event.id, payload: { n: 1 } });
      // The killed worker recorded nothing; the attempt that counted is the second.
      expect((await attemptsOf(server, tenant, event.id, hanging.ruleId)).map((a) => [a.attempt, a.outcome_code])).toEqual([
        [2, "delivered"],
      ]);

      for (const queued of meanwhile) {
        await waitFor(() => eventDetail(server, tenant, queued.id), { what: `event ${queued.id}`, until: (e) => e.status === "completed" });
      }
      const received = bystander.receiver.requests.map((r) => JSON.parse(r.body.toString()).uuid).sort();
      expect(received).toEqual(meanwhile.map((e) => e.id).sort());
    } finally {
      await stopWorkerProcess(second);
    }
    expect(second.child.exitCode).toBe(0);
  });
});

describe("deliveries left without a job before their claim", () => {
  it("when due deliveries have had no job for SWITCHYARD_DELIVERY_STALE_MS, then a worker's sweeper gives them one and they are delivered once", async () => {
    // Several connections, so that the sweeper's walk over connections has more than one to look at.
    const routes = await Promise.all(
      ["lost.one", "lost.two", "lost.three"].map((event) => routeToReceiver(server, tenant, event, { closers })),
    );
    const events = [];
    for (const event of ["lost.one", "lost.two", "lost.three"]) events.push(await emitEvent(server, tenant, { event }));
    // No worker runs: the test routes the events and nothing claims or queues their deliveries, as when the
    // job holding them died with a worker (graphile-worker would free it only after hours).
    expect(await routeQueuedEvents(server.db, server.pool)).toBe(3);
    // No job names a delivery (the `route` job of an ingest wake may land after the drain; it finds nothing).
    const jobs = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs where task_identifier <> 'route'`.execute(
      server.db,
    );
    expect(jobs.rows[0]?.n).toBe(0);
    // Time itself is the condition under test: the deliveries must have had no job for longer than the
    // worker's SWITCHYARD_DELIVERY_STALE_MS (500 ms) before it starts.
    await sleep(600);

    const worker = await startWorkerProcess({ SWITCHYARD_DELIVERY_STALE_MS: "500" });
    try {
      for (const event of events) {
        await waitFor(() => eventDetail(server, tenant, event.id), {
          what: `event ${event.id} to be delivered`,
          until: (e) => e.status === "completed",
          timeoutMs: 15_000,
        });
      }
      expect(routes.map((r) => r.receiver.requests.length)).toEqual([1, 1, 1]);
      expect(worker.output.join("")).toContain("gave a job to due deliveries that had none");
    } finally {
      await stopWorkerProcess(worker);
    }
  });
});

describe("a route job lost with its worker", () => {
  it("when the route job has been locked for SWITCHYARD_DELIVERY_STALE_MS by a worker that died, then a worker's sweep wakes routing again and the event is delivered once", async () => {
    const route = await routeToReceiver(server, tenant, "lost.route", { closers });
    const event = await emitEvent(server, tenant, { event: "lost.route" });
    expect(event.status).toBe("pending");
    // No worker runs; the job of the ingest's wake looks taken by a worker that died with it long ago. It
    // keeps the job key, so no later wake could queue another: only the sweep can.
    await waitFor(
      () => sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'route'`.execute(server.db),
      { what: "the route job of the wake", until: (r) => r.rows[0]?.n === 1 },
    );
    const locked = await sql`
      update graphile_worker._private_jobs set locked_at = now() - interval '1 hour', locked_by = 'worker-that-died'
      where task_id = (select id from graphile_worker._private_tasks where identifier = 'route')`.execute(server.db);
    expect(Number(locked.numAffectedRows)).toBe(1);

    const worker = await startWorkerProcess({ SWITCHYARD_DELIVERY_STALE_MS: "500" });
    try {
      const delivered = await waitFor(() => eventDetail(server, tenant, event.id), {
        what: `event ${event.id} to be delivered`,
        until: (e) => e.status === "completed",
        timeoutMs: 15_000,
      });
      expect(delivered).toMatchObject({ total_rules: 1, completed_count: 1 });
      expect(route.receiver.requests).toHaveLength(1);
      expect(worker.output.join("")).toContain("woke routing for outbox rows left waiting");
    } finally {
      await stopWorkerProcess(worker);
    }
  });
});
