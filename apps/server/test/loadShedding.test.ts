import { type ClientRequest, request } from "node:http";
import { createEvent, createEventsBulk, listWorkspaces } from "@switchyard/client";
import { sleep, waitFor } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { expectWithin } from "./support/bounds.js";
import { type EventsTableLock, lockEventsTable } from "./support/eventsTableLock.js";
import { bearer, createTenant, storedEvents, type Tenant } from "./support/fixtures.js";
import { startTestServer, type TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

let databaseUrl: string;

// Each test starts a server with the limits it exercises, and closes it.
useTestServer({ server: false }, (file) => {
  ({ databaseUrl } = file);
});

/** A bulk request whose headers and first half of the body are sent; `finish` sends the rest. */
function halfSentBulk(server: TestServer, tenant: Tenant, event: string) {
  const body = Buffer.from(JSON.stringify([{ event, payload: { n: 1 } }]));
  let req: ClientRequest | undefined;
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req = request(
      `${server.baseUrl}/api/v1/events/bulk`,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "Content-Length": body.length, "X-Meshes-Publishable-Key": tenant.publishableKey },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.flushHeaders();
    req.write(body.subarray(0, 10));
  });
  return { answer, finish: () => req?.end(body.subarray(10)) };
}

async function shedCount(server: TestServer, reason: string): Promise<number> {
  const metric = await server.metrics.requestsShed.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe("when the ingestion requests in progress reach SWITCHYARD_INGEST_MAX_IN_PROGRESS", () => {
  it("then a new one is answered 503 with Retry-After before its body is read, nothing of it is stored, and the next one after them is served", async () => {
    const server = await startTestServer(databaseUrl, { ingestMaxInProgress: 2 });
    try {
      const tenant = await createTenant(server.db, server.secretBox);
      const headers = { "X-Meshes-Publishable-Key": tenant.publishableKey };
      // Two requests still sending their bodies hold both places.
      const first = halfSentBulk(server, tenant, "held.one");
      const second = halfSentBulk(server, tenant, "held.two");
      // Each takes its slot after an asynchronous key lookup, which nothing outside the server shows; 200 ms is
      // ample, and the count of shed requests below (exactly 2) fails if a slot was not yet taken.
      await sleep(200);

      const started = performance.now();
      const shedBulk = await createEventsBulk({ client: server.client, headers, body: [{ event: "shed.bulk", payload: {} }] });
      const shedSingle = await createEvent({ client: server.client, headers, body: { event: "shed.single", payload: {} } });
      expectWithin("load shedding: two requests shed while the slots are held (ms)", performance.now() - started, 1000);
      for (const shed of [shedBulk, shedSingle]) {
        expect(shed.response?.status).toBe(503);
        expect(shed.response?.headers.get("retry-after")).toBe("1");
        expect(shed.error).toEqual({
          message: "Service Unavailable",
          error: { name: "ServiceUnavailable", message: "The server is at capacity; retry after the delay in Retry-After." },
        });
      }
      expect(await shedCount(server, "in_progress")).toBe(2);
      // The management API is not limited by it.
      const workspaces = await listWorkspaces({ client: server.client, headers: await bearer(tenant.machine) });
      expect(workspaces.response?.status).toBe(200);

      first.finish();
      second.finish();
      expect((await first.answer).status).toBe(201);
      expect((await second.answer).status).toBe(201);
      const after = await createEventsBulk({ client: server.client, headers, body: [{ event: "after", payload: {} }] });
      expect(after.response?.status).toBe(201);

      const stored = (await storedEvents(server.db, tenant.workspaceId)).map((e) => e.event).sort();
      expect(stored).toEqual(["after", "held.one", "held.two"]);
    } finally {
      await server.close();
    }
  });
});

describe("when the batches waiting to be written have waited longer than SWITCHYARD_INGEST_MAX_QUEUE_WAIT_MS", () => {
  it("then new requests are answered 503 at once, the waiting ones are written when the database catches up, and ingestion recovers", async () => {
    // Pool 2: one ingest statement at a time, so a second batch waits in the queue behind a blocked first one.
    const server = await startTestServer(databaseUrl, { dbPoolSize: 2, ingestMaxQueueWaitMs: 200, dbTimeoutMs: 5000 });
    let lock: EventsTableLock | undefined;
    try {
      const tenant = await createTenant(server.db, server.secretBox);
      const headers = { "X-Meshes-Publishable-Key": tenant.publishableKey };
      const locked = await lockEventsTable(databaseUrl);
      lock = locked;

      const blocked = createEventsBulk({ client: server.client, headers, body: [{ event: "blocked", payload: {} }] });
      const queued = createEventsBulk({ client: server.client, headers, body: [{ event: "queued", payload: {} }] });
      // The first statement waits on the lock; the second batch has waited past 200 ms in the queue.
      await waitFor(locked.waiters, {
        what: "the first statement to wait on the lock",
        until: (n) => n === 1,
        timeoutMs: 5000,
        intervalMs: 20,
      });
      // The time itself is the condition under test: the queued batch must have waited past the 200 ms limit.
      await sleep(400);

      const started = performance.now();
      const shed = await createEventsBulk({ client: server.client, headers, body: [{ event: "shed", payload: {} }] });
      expectWithin("load shedding: a request shed while the write queue is behind (ms)", performance.now() - started, 500);
      expect(shed.response?.status).toBe(503);
      expect(shed.response?.headers.get("retry-after")).toBe("1");
      expect(shed.error?.error.name).toBe("ServiceUnavailable");
      expect(await shedCount(server, "queue_wait")).toBe(1);

      await locked.release();
      expect((await blocked).response?.status).toBe(201);
      expect((await queued).response?.status).toBe(201);
      const after = await createEventsBulk({ client: server.client, headers, body: [{ event: "after", payload: {} }] });
      expect(after.response?.status).toBe(201);
      const stored = (await storedEvents(server.db, tenant.workspaceId)).map((e) => e.event).sort();
      expect(stored).toEqual(["after", "blocked", "queued"]);
    } finally {
      await lock?.end();
      await server.close();
    }
  });
});
