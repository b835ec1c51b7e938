import { connect, type Socket } from "node:net";
import { createEventsBulk } from "@switchyard/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createTenant, storedEvents, type Tenant } from "./support/fixtures.js";
import { createTestDatabase } from "./support/testDatabase.js";
import { startTestServer, type TestServer } from "./support/testServer.js";

let server: TestServer;
let tenant: Tenant;
let dropDatabase: () => Promise<void>;

beforeAll(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  // Few slots and short timeouts, so that each finding shows in seconds.
  server = await startTestServer(database.url, { ingestMaxInProgress: 4, requestTimeoutMs: 2000 });
  tenant = await createTenant(server.db, server.secretBox);
});

afterAll(async () => {
  await server?.close();
  await dropDatabase?.();
});

const port = () => Number(new URL(server.baseUrl).port);

/** A raw connection that sends `bytes`; resolves with all it received and when it closed (ms after the send). */
function rawExchange(
  bytes: string | Buffer,
  keepOpenMs = 60_000,
): { socket: Socket; done: Promise<{ text: string; closedAfterMs: number }> } {
  const socket = connect(port(), "127.0.0.1");
  const started = performance.now();
  const done = new Promise<{ text: string; closedAfterMs: number }>((resolve) => {
    let text = "";
    const timer = setTimeout(() => socket.destroy(), keepOpenMs);
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: performance.now() - started });
    });
    socket.on("error", () => {});
  });
  socket.write(bytes);
  return { socket, done };
}

function statusOf(text: string): number {
  return Number(text.split(" ")[1]);
}

function bodyOf(text: string): { message?: string; error?: { name?: string; message?: string } } {
  return JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as { error?: { name?: string } };
}

function head(method: string, path: string, headers: string[]): string {
  return [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", ...headers, "", ""].join("\r\n");
}

describe("callers the server does not know", () => {
  it("when many unauthenticated sockets send headers and one byte of body, then they hold no ingestion slot and real events are stored", async () => {
    const credentials = [[], ["X-Meshes-Publishable-Key: mesh_pub_nope"], ["Authorization: Bearer not.a.jwt"]];
    const slow = Array.from({ length: 12 }, (_, i) =>
      rawExchange(
        `${head("POST", "/api/v1/events/bulk", ["Content-Type: application/json", "Content-Length: 100000", ...(credentials[i % 3] ?? [])])}[`,
        5000,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = (await storedEvents(server.db, tenant.workspaceId)).length;
    const real = await createEventsBulk({
      client: server.client,
      headers: { "X-Meshes-Publishable-Key": tenant.publishableKey },
      body: [
        { event: "real.one", payload: {} },
        { event: "real.two", payload: {} },
      ],
    });
    expect(real.response?.status).toBe(201);
    expect((await storedEvents(server.db, tenant.workspaceId)).length).toBe(before + 2);
    // Each slow caller was answered 401 without its body, and its connection closed.
    const answers = await Promise.all(slow.map((s) => s.done));
    expect(answers.map((a) => statusOf(a.text))).toEqual(slow.map(() => 401));
    expect(answers.every((a) => a.closedAfterMs < 4000)).toBe(true);
  });

  it("when an unauthenticated caller sends a malformed, oversized or compressed body, then it learns only 401, on ingestion and management alike", async () => {
    const bodies: Array<[string, string[], string | Buffer]> = [
      ["malformed JSON", ["Content-Type: application/json"], "{not json"],
      ["over the body limit", ["Content-Type: application/json"], Buffer.alloc(1024 * 1024 + 10, 0x20)],
      ["an unknown encoding", ["Content-Type: application/json", "Content-Encoding: compress"], "{}"],
      ["a latin1 charset", ["Content-Type: application/json; charset=latin1"], "{}"],
    ];
    for (const path of ["/api/v1/events", "/api/v1/events/bulk", "/api/v1/connections", "/api/v1/workspaces"]) {
      for (const [what, headers, body] of bodies) {
        const bytes = Buffer.concat([
          Buffer.from(head("POST", path, [...headers, `Content-Length: ${Buffer.byteLength(body)}`])),
          Buffer.from(body),
        ]);
        const { text } = await rawExchange(bytes).done;
        expect(statusOf(text), `${path}, ${what}`).toBe(401);
        expect(bodyOf(text).error?.name, `${path}, ${what}`).toBe("Unauthorized");
      }
    }
  });

  it("when a path under /api/ is not in the spec, then it is answered 404 in the envelope without its body being read", async () => {
    const { text, closedAfterMs } = await rawExchange(
      `${head("POST", "/api/v1/nowhere", ["Content-Type: application/json", "Content-Length: 100000"])}{"a":`,
    ).done;
    expect(statusOf(text)).toBe(404);
    expect(bodyOf(text).error?.name).toBe("NotFound");
    expect(closedAfterMs).toBeLessThan(2000);
  });
});

describe("timeouts", () => {
  // The server under test: SWITCHYARD_REQUEST_TIMEOUT_MS 2000, so headers too must arrive within 2 s.
  it("when a client stops in the middle of its headers, then the connection is cut within the timeout, checked every second", async () => {
    const { text, closedAfterMs } = await rawExchange("POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").done;
    expect(closedAfterMs).toBeLessThan(4000);
    expect(closedAfterMs).toBeGreaterThan(1500);
    if (text !== "") expect(statusOf(text)).toBe(408);
  });

  it("when an authenticated client stops in the middle of its body, then it is answered 408 within the timeout, checked every second", async () => {
    const { text, closedAfterMs } = await rawExchange(
      `${head("POST", "/api/v1/events", ["Content-Type: application/json", "Content-Length: 1000", `X-Meshes-Publishable-Key: ${tenant.publishableKey}`])}{"event":`,
    ).done;
    expect(closedAfterMs).toBeLessThan(4000);
    expect(closedAfterMs).toBeGreaterThan(1500);
    expect(statusOf(text)).toBe(408);
  });
});

describe("framing", () => {
  it("when an HTTP/1.1 request has no Host header, then it is answered 400 in the envelope", async () => {
    const { text } = await rawExchange("GET /api/v1/workspaces HTTP/1.1\r\nConnection: close\r\n\r\n").done;
    expect(statusOf(text)).toBe(400);
    expect(bodyOf(text)).toEqual({ message: "Bad Request", error: { name: "BadRequest", message: "The Host header is required." } });
  });
});

describe("Meshes' events client, as it sends", () => {
  it("when ingestion is called with query parameters it does not know, then it ignores them; management still refuses them", async () => {
    const sdkHeaders = {
      "X-Meshes-Client": "Meshes Events Client v1.0.0",
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-Meshes-Publishable-Key": tenant.publishableKey,
    };
    const single = await fetch(`${server.baseUrl}/api/v1/events?source=landing&campaign=winter`, {
      method: "POST",
      headers: sdkHeaders,
      body: JSON.stringify({ event: "sdk.query", payload: { n: 1 } }),
    });
    expect(single.status).toBe(201);
    const bulk = await fetch(`${server.baseUrl}/api/v1/events/bulk?source=landing`, {
      method: "POST",
      headers: sdkHeaders,
      body: JSON.stringify([{ event: "sdk.query", payload: { n: 2 } }]),
    });
    expect(bulk.status).toBe(201);
    expect((await storedEvents(server.db, tenant.workspaceId)).filter((e) => e.event === "sdk.query")).toHaveLength(2);

    const management = await fetch(`${server.baseUrl}/api/v1/workspaces?source=landing`, { headers: await bearer(tenant.machine) });
    expect(management.status).toBe(400);
  });
});
