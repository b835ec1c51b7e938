import { readFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { createEvent, createEventsBulk, getWorkspace } from "@switchyard/client";
import { freePort, waitFor } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../src/config.js";
import { specPath } from "../src/http/openApiSpec.js";
import { createLogger } from "../src/logger.js";
import { bearer, type Tenant } from "./support/fixtures.js";
import { startTestServer, type TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

/** Every JSON line the server logged, parsed. */
const logLines: Array<Record<string, unknown>> = [];
let databaseUrl: string;
let server: TestServer;
let tenant: Tenant;

const log = createLogger({ destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } });
useTestServer({ tenant: "Acme", log }, (file) => {
  ({ server, tenant, databaseUrl } = file);
});

/** The access line the server wrote for the request with this id (it is written once the response has ended). */
function accessLineOf(requestId: string | null): Promise<Record<string, unknown>> {
  return waitFor(() => logLines.find((line) => line.msg === "request" && line.requestId === requestId), {
    what: `the access line of request ${requestId}`,
    timeoutMs: 2000,
    intervalMs: 10,
  });
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("request ids and the access log", () => {
  it("when a request carries an acceptable X-Request-Id, then the response echoes it and the access line carries it", async () => {
    const id = "edge-42.a_b:c";
    const response = await fetch(`${server.baseUrl}/healthz`, { headers: { "X-Request-Id": id } });
    expect(response.headers.get("x-request-id")).toBe(id);
    expect(await accessLineOf(id)).toMatchObject({
      level: "info",
      requestId: id,
      method: "GET",
      route: "/healthz",
      status: 200,
      durationMs: expect.any(Number),
    });
  });

  it("when a request carries no X-Request-Id, then a new one is generated, echoed and logged", async () => {
    const response = await fetch(`${server.baseUrl}/healthz`);
    const id = response.headers.get("x-request-id");
    expect(id).toMatch(uuid);
    expect(await accessLineOf(id)).toMatchObject({ route: "/healthz", status: 200 });
  });

  it.each([
    ["is 129 characters long", "a".repeat(129)],
    ["holds a space", "abc def"],
    ["holds markup", "<script>alert(1)</script>"],
    ["holds a quote and a semicolon", 'id";x=1'],
    ["is empty", ""],
  ])("when the incoming X-Request-Id %s, then it is replaced by a generated one", async (_case, hostile) => {
    const response = await fetch(`${server.baseUrl}/healthz`, { headers: { "X-Request-Id": hostile } });
    const id = response.headers.get("x-request-id");
    expect(id).toMatch(uuid);
    await accessLineOf(id);
    expect(logLines.some((line) => line.requestId === hostile)).toBe(false);
  });

  it("when the API answers an error, then the response carries the request id too", async () => {
    const { response } = await createEvent({
      client: server.client,
      headers: { "X-Request-Id": "refused-1" },
      body: { event: "a", payload: {} },
    });
    expect(response?.status).toBe(401);
    expect(response?.headers.get("x-request-id")).toBe("refused-1");
    expect(await accessLineOf("refused-1")).toMatchObject({ method: "POST", route: "/api/v1/events", status: 401 });
  });

  it("when events are sent with credentials, then the access line names the route and holds no credential", async () => {
    const headers = { "X-Request-Id": "ingest-1", "X-Meshes-Publishable-Key": tenant.publishableKey };
    const { response } = await createEvent({ client: server.client, headers, body: { event: "a", payload: { n: 1 } } });
    expect(response?.status).toBe(201);
    const machine = await bearer(tenant.machine);
    const fetched = await getWorkspace({
      client: server.client,
      headers: { ...machine, "X-Request-Id": "ingest-2" },
      path: { id: tenant.workspaceId },
    });
    expect(fetched.response?.status).toBe(200);

    expect(await accessLineOf("ingest-1")).toMatchObject({ method: "POST", route: "/api/v1/events", status: 201 });
    expect(await accessLineOf("ingest-2")).toMatchObject({ method: "GET", route: "/api/v1/workspaces/:id", status: 200 });
    const everything = JSON.stringify(logLines);
    expect(everything).not.toContain(tenant.publishableKey);
    expect(everything).not.toContain(machine.Authorization.slice("Bearer ".length));
    expect(everything).not.toContain(tenant.machine.secretKey);
    expect(everything.toLowerCase()).not.toContain("x-meshes-publishable-key");
    expect(everything.toLowerCase()).not.toContain("authorization");
  });
});

describe("GET /healthz", () => {
  it("when the process runs, then it answers 200 {status: ok}", async () => {
    const response = await fetch(`${server.baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("GET /readyz", () => {
  it("when the database answers, then it answers 200 {status: ok}", async () => {
    const response = await fetch(`${server.baseUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("when nothing listens at the database's address, then it answers 503 in the error envelope", async () => {
    const down = await startTestServer(`postgres://switchyard@127.0.0.1:${await freePort()}/nothing`, { dbTimeoutMs: 500 });
    try {
      const response = await fetch(`${down.baseUrl}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        message: "Service Unavailable",
        error: { name: "ServiceUnavailable", message: "The database is unavailable; retry later." },
      });
      expect((await fetch(`${down.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      await down.close();
    }
  });

  it("when the database accepts connections but never answers, then it answers 503 within the timeout", async () => {
    const sockets = new Set<Socket>();
    const silent: NetServer = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    const timeoutMs = 500;
    const down = await startTestServer(`postgres://switchyard@127.0.0.1:${port}/nothing`, { dbTimeoutMs: timeoutMs });
    try {
      const started = performance.now();
      const response = await fetch(`${down.baseUrl}/readyz`);
      expect(response.status).toBe(503);
      expect(performance.now() - started).toBeLessThan(timeoutMs + 750);
    } finally {
      await down.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

/** The value of one sample in Prometheus text format, or undefined when there is no such sample. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = (match[2] ?? "").split(",");
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

async function scrape(): Promise<string> {
  const response = await fetch(`${server.baseUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

describe("GET /metrics", () => {
  it("when a request was answered, then the request counter and latency histogram count it by route, method and status", async () => {
    await fetch(`${server.baseUrl}/healthz`);
    const text = await scrape();
    const labels = { route: "/healthz", method: "GET", status: "200" };
    expect(sample(text, "http_requests_total", labels)).toBeGreaterThanOrEqual(1);
    expect(sample(text, "http_request_duration_seconds_count", labels)).toBeGreaterThanOrEqual(1);
  });

  it("when requests name ids or unknown paths, then the route label is the pattern and never the raw URL", async () => {
    const id = "0190a0a0-0000-7000-8000-000000000001";
    expect((await fetch(`${server.baseUrl}/api/v1/workspaces/${id}`)).status).toBe(401);
    expect((await fetch(`${server.baseUrl}/no/such/page-7f3a`)).status).toBe(404);
    const fetched = await getWorkspace({ client: server.client, headers: await bearer(tenant.machine), path: { id: tenant.workspaceId } });
    expect(fetched.response?.status).toBe(200);
    const text = await scrape();
    expect(sample(text, "http_requests_total", { route: "/api/v1/workspaces/:id", method: "GET", status: "200" })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sample(text, "http_requests_total", { route: "/api/v1/workspaces/:id", method: "GET", status: "401" })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sample(text, "http_requests_total", { route: "unmatched", method: "GET", status: "404" })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(id);
    expect(text).not.toContain(tenant.workspaceId);
    expect(text).not.toContain("page-7f3a");
  });

  it("when events are ingested, then the events counter counts accepted and rejected items", async () => {
    const before = await scrape();
    const headers = { "X-Meshes-Publishable-Key": tenant.publishableKey };
    const body = [
      { event: "a", payload: {} },
      { event: "", payload: {} },
      { event: "b", payload: {} },
    ];
    const { response } = await createEventsBulk({ client: server.client, headers, body });
    expect(response?.status).toBe(207);
    const after = await scrape();
    const count = (text: string, outcome: string) => sample(text, "switchyard_events_ingested_total", { outcome }) ?? Number.NaN;
    expect(count(after, "accepted") - count(before, "accepted")).toBe(2);
    expect(count(after, "rejected") - count(before, "rejected")).toBe(1);
    expect(count(after, "duplicate")).toBe(count(before, "duplicate"));
  });

  it("when scraped after a query gave its connection back to the pool, then it reports the pool's connections and idle ones as the pool holds them", async () => {
    await server.pool.query("select 1");
    const text = await scrape();
    // Nothing else uses this server's pool meanwhile (no worker, one test at a time): the scrape saw what it holds now.
    const { totalCount, idleCount } = server.pool;
    expect(idleCount).toBeGreaterThanOrEqual(1);
    expect(sample(text, "switchyard_db_pool_connections")).toBe(totalCount);
    expect(sample(text, "switchyard_db_pool_idle_connections")).toBe(idleCount);
    expect(sample(text, "switchyard_db_pool_waiting_clients")).toBe(0);
  });

  it("when two apps run in one process, then each counts only its own requests", async () => {
    const other = await startTestServer(databaseUrl);
    try {
      await fetch(`${other.baseUrl}/readyz`);
      await fetch(`${other.baseUrl}/readyz`);
      const response = await fetch(`${other.baseUrl}/metrics`);
      expect(sample(await response.text(), "http_requests_total", { route: "/readyz", method: "GET", status: "200" })).toBe(2);
    } finally {
      await other.close();
    }
  });
});

describe("GET /openapi.yaml", () => {
  it("when fetched, then it answers the public spec file as application/yaml", async () => {
    const response = await fetch(`${server.baseUrl}/openapi.yaml`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/yaml/);
    expect(await response.text()).toBe(await readFile(specPath, "utf8"));
  });
});

describe("GET /docs", () => {
  it("when fetched, then it answers an HTML page whose every asset is served by this server", async () => {
    const response = await fetch(`${server.baseUrl}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await response.text();
    const urls = [...html.matchAll(/\b(?:src|href|spec-url)="([^"]*)"/g)].map((m) => m[1] ?? "");
    expect(urls).toContain("/openapi.yaml");
    for (const url of urls) expect(url).toMatch(/^\/(?!\/)/);
    expect(html).not.toMatch(/https?:\/\//);

    const scripts = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(scripts).toHaveLength(1);
    for (const script of scripts) {
      const asset = await fetch(`${server.baseUrl}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(/^(text|application)\/javascript/);
      const code = await asset.text();
      expect(code.length).toBeGreaterThan(100_000);
      expect(code).toContain("Redoc");
    }
  });
});

describe("configuration of the operations features", () => {
  it.each([
    [undefined, false],
    ["false", false],
    ["TRUE", true],
    ["2", 2],
    ["loopback", ["loopback"]],
    ["10.0.0.0/8, 192.168.1.1,fd00::/8", ["10.0.0.0/8", "192.168.1.1", "fd00::/8"]],
    ["10.0.0.0/255.0.0.0", ["10.0.0.0/255.0.0.0"]],
  ])("when SWITCHYARD_TRUST_PROXY is %j, then trust proxy is %j", (raw, expected) => {
    expect(parseConfig({ SWITCHYARD_TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it.each(["yes please", "10.0.0.0/33", "example.com", "-1", "1.2.3.4/8/8", ","])(
    "when SWITCHYARD_TRUST_PROXY is %j, then parsing fails naming the variable",
    (raw) => {
      expect(() => parseConfig({ SWITCHYARD_TRUST_PROXY: raw })).toThrow(ConfigError);
      expect(() => parseConfig({ SWITCHYARD_TRUST_PROXY: raw })).toThrow(/^SWITCHYARD_TRUST_PROXY: /);
    },
  );

  it("when SWITCHYARD_SHUTDOWN_GRACE_MS is unset, then the grace period is 10 s; when malformed, then parsing fails", () => {
    expect(parseConfig({}).shutdownGraceMs).toBe(10_000);
    expect(parseConfig({ SWITCHYARD_SHUTDOWN_GRACE_MS: "2500" }).shutdownGraceMs).toBe(2500);
    expect(() => parseConfig({ SWITCHYARD_SHUTDOWN_GRACE_MS: "soon" })).toThrow(/^SWITCHYARD_SHUTDOWN_GRACE_MS: /);
  });

  it("when SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS is unset, then idle connections are kept 65 s (above a gateway's usual 60 s); when malformed, then parsing fails", () => {
    expect(parseConfig({}).keepAliveTimeoutMs).toBe(65_000);
    expect(parseConfig({ SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS: "120000" }).keepAliveTimeoutMs).toBe(120_000);
    expect(() => parseConfig({ SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS: "forever" })).toThrow(/^SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS: /);
  });

  it("when a kept-alive connection has been idle for the keep-alive timeout, then the server closes it, and not before; the answer announces the timeout", async () => {
    const short = await startTestServer(databaseUrl, { keepAliveTimeoutMs: 2000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const { keepAlive, socket } = await new Promise<{ keepAlive: string | undefined; socket: Socket }>((resolve, reject) => {
        const req = request(`${short.baseUrl}/healthz`, { agent }, (res) => {
          res.resume();
          res.once("end", () => resolve({ keepAlive: res.headers["keep-alive"] as string | undefined, socket: req.socket as Socket }));
        });
        req.once("error", reject);
        req.end();
      });
      expect(keepAlive).toBe("timeout=2");
      const idleStart = performance.now();
      const closedAfter = await new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now() - idleStart)));
      expect(closedAfter).toBeGreaterThan(1500);
      expect(closedAfter).toBeLessThan(4000);
    } finally {
      agent.destroy();
      await short.close();
    }
  });

  it("when trust proxy names the loopback proxy, then the access line shows the forwarded client address", async () => {
    const proxied = await startTestServer(databaseUrl, {
      trustProxy: ["loopback"],
      log: createLogger({ destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } }),
    });
    try {
      await fetch(`${proxied.baseUrl}/healthz`, { headers: { "X-Request-Id": "proxied-1", "X-Forwarded-For": "203.0.113.7" } });
      await fetch(`${server.baseUrl}/healthz`, { headers: { "X-Request-Id": "direct-1", "X-Forwarded-For": "203.0.113.7" } });
      expect(await accessLineOf("proxied-1")).toMatchObject({ remoteAddress: "203.0.113.7" });
      expect(await accessLineOf("direct-1")).toMatchObject({ remoteAddress: "127.0.0.1" });
    } finally {
      await proxied.close();
    }
  });
});
