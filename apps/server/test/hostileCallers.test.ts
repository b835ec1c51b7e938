import type { Socket } from "node:net";
import { createConnection, createEventsBulk, createRule } from "@switchyard/client";
import { createTestDatabase, waitFor } from "@switchyard/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { expectWithin } from "./support/bounds.js";
import { bearer, createTenant, storedEvents, type Tenant } from "./support/fixtures.js";
import { rawConnection } from "./support/rawHttp.js";
import { startTestServer, type TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import { attemptsOf, deliveryOf, emitEvent, routeToReceiver } from "./support/webhookRoutes.js";

let server: TestServer;
let tenant: Tenant;

// Few slots and short timeouts, so that each finding shows in seconds.
useTestServer({ tenant: "Acme", ingestMaxInProgress: 4, requestTimeoutMs: 2000 }, (file) => {
  ({ server, tenant } = file);
});

/** A raw connection that sends `bytes`; `done` resolves with all it received and when it closed (ms after the send). */
function rawSend(bytes: string | Buffer, keepOpenMs = 60_000): { socket: Socket; done: Promise<{ text: string; closedAfterMs: number }> } {
  const { socket, done } = rawConnection(server.baseUrl, keepOpenMs);
  socket.write(bytes);
  return { socket, done: done.then(({ data, closedAfterMs }) => ({ text: data.toString("latin1"), closedAfterMs })) };
}

/** A webhook connection of the tenant's workspace (to a host nothing is sent to here); its id. */
async function newWebhookConnection(name: string): Promise<string> {
  const created = await createConnection({
    client: server.client,
    headers: await bearer(tenant.machine),
    body: { workspace: tenant.workspaceId, integration_type: "webhook", name, metadata: { url: "https://hooks.example.com/in" } },
  });
  if (created.data === undefined) throw new Error(`connection ${name} not created: ${JSON.stringify(created.error)}`);
  return created.data.connection.id;
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
      rawSend(
        `${head("POST", "/api/v1/events/bulk", ["Content-Type: application/json", "Content-Length: 100000", ...(credentials[i % 3] ?? [])])}[`,
        5000,
      ),
    );
    // The server judges a caller on its headers: once each slow caller has its answer, none of them could hold a slot.
    await waitFor(() => slow.every((s) => s.socket.bytesRead > 0), { what: "every slow caller to be answered" });
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
    expectWithin(
      "hostile callers: slowest 401 to an unauthenticated slow body (ms)",
      Math.max(...answers.map((a) => a.closedAfterMs)),
      4000,
    );
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
        const { text } = await rawSend(bytes).done;
        expect(statusOf(text), `${path}, ${what}`).toBe(401);
        expect(bodyOf(text).error?.name, `${path}, ${what}`).toBe("Unauthorized");
      }
    }
  });

  it("when a path under /api/ is not in the spec, then it is answered 404 in the envelope without its body being read", async () => {
    const { text, closedAfterMs } = await rawSend(
      `${head("POST", "/api/v1/nowhere", ["Content-Type: application/json", "Content-Length: 100000"])}{"a":`,
    ).done;
    expect(statusOf(text)).toBe(404);
    expect(bodyOf(text).error?.name).toBe("NotFound");
    expectWithin("hostile callers: 404 for an unknown path, body unread (ms)", closedAfterMs, 2000);
  });
});

describe("timeouts", () => {
  // The server under test: SWITCHYARD_REQUEST_TIMEOUT_MS 2000, so headers too must arrive within 2 s.
  it("when a client stops in the middle of its headers, then the connection is cut within the timeout, checked every second", async () => {
    const { text, closedAfterMs } = await rawSend("POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").done;
    expectWithin("hostile callers: headers cut, timeout 2000 (ms)", closedAfterMs, 4000);
    expect(closedAfterMs).toBeGreaterThan(1500);
    if (text !== "") expect(statusOf(text)).toBe(408);
  });

  it("when an authenticated client stops in the middle of its body, then it is answered 408 within the timeout, checked every second", async () => {
    const { text, closedAfterMs } = await rawSend(
      `${head("POST", "/api/v1/events", ["Content-Type: application/json", "Content-Length: 1000", `X-Meshes-Publishable-Key: ${tenant.publishableKey}`])}{"event":`,
    ).done;
    expectWithin("hostile callers: body cut, timeout 2000 (ms)", closedAfterMs, 4000);
    expect(closedAfterMs).toBeGreaterThan(1500);
    expect(statusOf(text)).toBe(408);
  });
});

describe("framing", () => {
  it("when an HTTP/1.1 request has no Host header, then it is answered 400 in the envelope", async () => {
    const { text } = await rawSend("GET /api/v1/workspaces HTTP/1.1\r\nConnection: close\r\n\r\n").done;
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

describe("Meshes' events client, as its users rely on it", () => {
  const key = () => ({ "X-Meshes-Publishable-Key": tenant.publishableKey });

  it("when a bulk is sent twice with the same Idempotency-Key header, then the second stores nothing and answers every item as a duplicate", async () => {
    const body = [
      { event: "bulk.keyed", payload: { n: 0 } },
      { event: "bulk.keyed", payload: { n: 1 }, idempotency_key: "own-key-1" },
      { event: "bulk.keyed", payload: { n: 2 } },
    ];
    const headers = { ...key(), "Idempotency-Key": "retry-1" };
    const first = await createEventsBulk({ client: server.client, headers, body });
    expect(first.response?.status).toBe(201);
    const again = await createEventsBulk({ client: server.client, headers, body });
    expect(again.response?.status).toBe(201);
    expect(again.data?.records.map((r) => (r.type === "event" ? [r.id, r.duplicate] : r.type))).toEqual(
      first.data?.records.map((r) => (r.type === "event" ? [r.id, true] : r.type)),
    );
    expect((await storedEvents(server.db, tenant.workspaceId)).filter((e) => e.event === "bulk.keyed")).toHaveLength(3);
    const keys = await server.db.selectFrom("idempotency_keys").select("key").where("workspace_id", "=", tenant.workspaceId).execute();
    expect(
      keys
        .map((k) => k.key)
        .filter((k) => k.startsWith("retry-1") || k === "own-key-1")
        .sort(),
    ).toEqual(["own-key-1", "retry-1:0", "retry-1:2"]);
    // Another header is another bulk.
    const other = await createEventsBulk({
      client: server.client,
      headers: { ...key(), "Idempotency-Key": "retry-2" },
      body: [{ event: "bulk.keyed", payload: { n: 0 } }],
    });
    expect(other.data?.records[0]).toMatchObject({ type: "event" });
    expect(other.data?.records[0]?.type === "event" && other.data.records[0].duplicate).toBeFalsy();
  });

  it("when an event has no resource, then it is stored and answered as global, and a rule for resource global matches it", async () => {
    const headers = await bearer(tenant.machine);
    const connectionId = await newWebhookConnection("global");
    const rule = await createRule({
      client: server.client,
      headers,
      body: { connection: connectionId, event: "global.check", resource: "global", metadata: { action: "send_webhook" } },
    });
    expect(rule.response?.status).toBe(201);
    const emitted = await createEventsBulk({
      client: server.client,
      headers: key(),
      body: [
        { event: "global.check", payload: { n: 1 } },
        { event: "global.check", resource: "contact", payload: { n: 2 } },
      ],
    });
    const records = emitted.data?.records ?? [];
    expect(records.map((r) => (r.type === "event" ? r.resource : r.type))).toEqual(["global", "contact"]);
    const rows = await server.db
      .selectFrom("events")
      .select(["resource", "total_rules"])
      .where(
        "id",
        "in",
        records.map((r) => (r.type === "event" ? r.id : "")),
      )
      .orderBy("resource", "desc")
      .execute();
    expect(rows).toEqual([
      { resource: "global", total_rules: 1 },
      { resource: "contact", total_rules: 0 },
    ]);
  });
});

describe("management input the database cannot store, or JavaScript cannot read", () => {
  const bad = { nul: "a\u0000b", esc: "a\u001bb", newline: "a\r\nb", loneSurrogate: "a\ud800b" };

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; error: { name?: string } | undefined }> {
    const response = await fetch(`${server.baseUrl}${path}`, {
      method,
      headers: { ...(await bearer(tenant.machine)), ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json()) as { error?: { name?: string } };
    return { status: response.status, error: answer.error };
  }

  const tableCounts = async () =>
    Object.fromEntries(
      await Promise.all(
        (["connections", "rules", "workspaces", "events"] as const).map(async (table) => {
          const row = await server.db.selectFrom(table).select(server.db.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
          return [table, Number(row.n)] as const;
        }),
      ),
    );

  it("when a filter, a name or a rule field holds a control character or a lone surrogate, then it is a 400 in the envelope and nothing changes", async () => {
    const connectionId = await newWebhookConnection("text rule");
    const before = await tableCounts();
    for (const [what, text] of Object.entries(bad)) {
      // A URL cannot carry a lone surrogate (its percent-encoding is invalid UTF-8, which decodes to U+FFFD).
      const q = what === "loneSurrogate" ? undefined : encodeURIComponent(text);
      const queries: Array<[string, string]> = [
        ["GET", `/api/v1/events?event=${q}`],
        ["GET", `/api/v1/events?resource=${q}`],
        ["GET", `/api/v1/events?resource_id=${q}`],
        ["GET", `/api/v1/workspaces/${tenant.workspaceId}/events?event=${q}`],
        ["GET", `/api/v1/rules?event=${q}`],
        ["GET", `/api/v1/rules?resource=${q}`],
        ["GET", `/api/v1/workspaces/${tenant.workspaceId}/rules?resource_id=${q}`],
      ];
      const attempts: Array<[string, string, unknown?]> = [
        ...(q === undefined ? [] : queries),
        [
          "POST",
          "/api/v1/connections",
          { workspace: tenant.workspaceId, integration_type: "webhook", name: text, metadata: { url: "https://hooks.example.com/x" } },
        ],
        ["PUT", `/api/v1/connections/${connectionId}`, { name: text }],
        ["POST", "/api/v1/rules", { connection: connectionId, event: "e", resource: text, metadata: { action: "send_webhook" } }],
        ["POST", "/api/v1/rules", { connection: connectionId, event: "e", resource_id: text, metadata: { action: "send_webhook" } }],
        ["POST", "/api/v1/workspaces", { name: text }],
      ];
      for (const [method, path, body] of attempts) {
        const answer = await call(method, path, body);
        expect(answer, `${what}: ${method} ${path} ${JSON.stringify(body) ?? ""}`).toEqual({
          status: 400,
          error: expect.objectContaining({ name: "BadRequest" }),
        });
      }
    }
    expect(await tableCounts()).toEqual(before);
  });

  it("when a replay window names an instant JavaScript cannot represent, then it is a 400, not a 500", async () => {
    for (const from of ["2026-11-30T23:59:60Z", "2026-11-30T00:00:00+25:00", "2026-02-30T00:00:00Z", "2026-11-30T24:00:00Z"]) {
      const answer = await call("POST", "/api/v1/replays", { workspace: tenant.workspaceId, from, dry_run: true });
      expect(answer, from).toEqual({ status: 400, error: expect.objectContaining({ name: "BadRequest" }) });
      const asTo = await call("POST", "/api/v1/replays", {
        workspace: tenant.workspaceId,
        from: "2026-11-30T00:00:00Z",
        to: from,
        dry_run: true,
      });
      expect(asTo, `to ${from}`).toEqual({ status: 400, error: expect.objectContaining({ name: "BadRequest" }) });
    }
    const fine = await call("POST", "/api/v1/replays", {
      workspace: tenant.workspaceId,
      from: new Date(Date.now() - 3_600_000).toISOString(),
      dry_run: true,
    });
    expect(fine.status).toBe(200);
  });
});

describe("destinations that are Switchyard's own", () => {
  it("when a connection names this server's port or its database, then it is refused though the allow-list names 127.0.0.1, at configuration and at delivery", async () => {
    const database = await createTestDatabase();
    const withWorker = await startTestServer(database.url, { worker: {} });
    const closers: Array<() => Promise<void>> = [];
    try {
      const owner = await createTenant(withWorker.db, withWorker.secretBox, "Own");
      const ownPort = Number(new URL(withWorker.baseUrl).port);
      const databasePort = Number(new URL(database.url).port || 5432);
      const headers = await bearer(owner.machine);
      for (const url of [
        `http://127.0.0.1:${ownPort}/api/v1/workspaces`,
        `http://localhost:${ownPort}/api/v1/workspaces`,
        `http://127.0.0.1:${databasePort}/`,
      ]) {
        const refused = await createConnection({
          client: withWorker.client,
          headers,
          body: { workspace: owner.workspaceId, integration_type: "webhook", name: "own", metadata: { url } },
        });
        expect(refused.response?.status, url).toBe(422);
      }

      // A connection whose URL was accepted and later points at the server (changed in the database, as a
      // DNS answer could change): the connect-time check refuses it, and the server never sees the request.
      const { connectionId, ruleId } = await routeToReceiver(withWorker, owner, "own.check", { closers });
      await withWorker.db
        .updateTable("connections")
        .set({ metadata: sql`jsonb_set(metadata, '{url}', ${JSON.stringify(`http://127.0.0.1:${ownPort}/api/v1/workspaces`)}::jsonb)` })
        .where("id", "=", connectionId)
        .execute();
      const event = await emitEvent(withWorker, owner, { event: "own.check" });
      // Its attempts can be listed once the worker has routed it.
      await deliveryOf(withWorker, owner, event.id, ruleId);
      const attempts = await waitFor(() => attemptsOf(withWorker, owner, event.id, ruleId), {
        what: "the attempt",
        until: (list) => list.length > 0,
      });
      expect(attempts[0]).toMatchObject({ outcome_code: "network_error" });
      expect(JSON.stringify(attempts[0])).toContain("Switchyard's own server and database");
    } finally {
      for (const close of closers) await close();
      await withWorker.close();
      await database.drop();
    }
  });
});
