import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, createEventsBulk } from "@switchyard/client";
import { installJobQueue, migrateToLatest, openDatabase } from "@switchyard/db";
import { type RunningEmbeddedPostgres, startEmbeddedPostgres } from "@switchyard/db/embedded";
import { freePort, waitFor } from "@switchyard/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectWithin } from "./support/bounds.js";
import { lockEventsTable } from "./support/eventsTableLock.js";
import { createTenant, storedEvents } from "./support/fixtures.js";
import { startTestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

const timeoutMs = 1000;
/** Time allowed beyond the configured timeout for the answer to travel back. */
const slack = 750;

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; elapsed: number }> {
  const started = performance.now();
  const result = await work();
  return { result, elapsed: performance.now() - started };
}

describe("when PostgreSQL is stopped and started again (a PostgreSQL this test owns)", () => {
  let dataDir: string;
  let port: number;
  let embedded: RunningEmbeddedPostgres;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "switchyard-down-"));
    port = await freePort();
    embedded = await startEmbeddedPostgres({ dataDir, port, postgresFlags: ["-c", "fsync=off"] });
    const setup = openDatabase({ connectionString: embedded.connectionString, timeoutMs: 5000, poolSize: 1, onIdleError: () => {} });
    await migrateToLatest(setup.db);
    await installJobQueue(setup.pool);
    await setup.close();
  });

  afterAll(async () => {
    await embedded?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("then ingestion answers 503 quickly while it is down and 201 again once it is back, without a server restart", async () => {
    const server = await startTestServer(embedded.connectionString, { dbTimeoutMs: timeoutMs });
    try {
      const tenant = await createTenant(server.db, server.secretBox);
      const headers = { "X-Meshes-Publishable-Key": tenant.publishableKey };
      const body = [{ event: "a", payload: {} }];
      expect((await createEventsBulk({ client: server.client, headers, body })).response?.status).toBe(201);

      await embedded.stop();
      for (let i = 0; i < 3; i += 1) {
        const { result, elapsed } = await timed(() => createEventsBulk({ client: server.client, headers, body }));
        expect(result.response?.status).toBe(503);
        expect(result.error).toMatchObject({ message: "Service Unavailable", error: { name: "ServiceUnavailable" } });
        expectWithin("database unavailable: an answer, per cause (ms)", elapsed, timeoutMs + slack);
      }

      embedded = await startEmbeddedPostgres({ dataDir, port, postgresFlags: ["-c", "fsync=off"] });
      const status = await waitFor(async () => (await createEventsBulk({ client: server.client, headers, body })).response?.status, {
        what: "ingestion to answer 201 again",
        until: (answer) => answer === 201,
        intervalMs: 100,
      });
      expect(status).toBe(201);
      expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(2);
    } finally {
      await server.close();
    }
  });
});

describe("when the database accepts connections but never answers", () => {
  let blackHole: Server;
  const sockets = new Set<Socket>();
  let url: string;

  beforeAll(async () => {
    blackHole = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
    url = `postgres://postgres@127.0.0.1:${(blackHole.address() as { port: number }).port}/switchyard`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => blackHole.close(() => resolve()));
  });

  it("then both endpoints answer 503 within the configured timeout instead of hanging", async () => {
    const server = await startTestServer(url, { dbTimeoutMs: timeoutMs });
    try {
      const headers = { "X-Meshes-Publishable-Key": `mesh_pub_${crypto.randomUUID()}_key_secret` };
      const single = await timed(() => createEvent({ client: server.client, headers, body: { event: "a", payload: {} } }));
      expect(single.result.response?.status).toBe(503);
      expectWithin("database unavailable: a single event (ms)", single.elapsed, timeoutMs + slack);
      const bulk = await timed(() => createEventsBulk({ client: server.client, headers, body: [{ event: "a", payload: {} }] }));
      expect(bulk.result.response?.status).toBe(503);
      expect(bulk.result.error?.error.name).toBe("ServiceUnavailable");
      expectWithin("database unavailable: a bulk (ms)", bulk.elapsed, timeoutMs + slack);
    } finally {
      await server.close();
    }
  });
});

describe("when a statement waits on a lock past the timeout", () => {
  const file = useTestServer({ tenant: "Acme", dbTimeoutMs: timeoutMs });

  it("then the request answers 503 within the timeout and the batch is not stored", async () => {
    const { server, tenant } = file;
    const lock = await lockEventsTable(file.databaseUrl);
    try {
      const headers = { "X-Meshes-Publishable-Key": tenant.publishableKey };
      const { result, elapsed } = await timed(() =>
        createEventsBulk({ client: server.client, headers, body: [{ event: "a", payload: {} }] }),
      );
      expect(result.response?.status).toBe(503);
      expectWithin("database unavailable: a management read (ms)", elapsed, timeoutMs + slack);
      // The statement itself must be cancelled by PostgreSQL (statement_timeout), not left waiting to
      // write after the 503: wait for no backend to be waiting on the lock, then release it.
      const waiting = await waitFor(lock.waiters, {
        what: "no backend to wait on the lock",
        until: (n) => n === 0,
        timeoutMs: 3000,
        intervalMs: 100,
      });
      expect(waiting).toBe(0);
      await lock.release();
      expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(0);
    } finally {
      await lock.end();
    }
  });
});
