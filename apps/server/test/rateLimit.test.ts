import { randomUUID } from "node:crypto";
import { createEvent, createEventsBulk, type EventInput } from "@switchyard/client";
import { sql } from "kysely";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, parseConfig, type RateLimitConfig } from "../src/config.js";
import type { Logger } from "../src/logger.js";
import { createWorkspace } from "../src/workspaces/workspaces.service.js";
import { bearer, createTenant, storedEvents, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";

/** 10 events per 10 s window: long enough that no window ends between two requests of one test. */
const limit = (store: RateLimitConfig["store"]): RateLimitConfig => ({ eventsPerSecond: 1, burst: 10, store });
const windowSeconds = 10;

// Each test starts servers with the limits it exercises, on the file's database; all are closed at the end.
const file = useTestServer({ server: false });

afterEach(() => {
  vi.useRealTimers();
});

const events = (count: number): EventInput[] => Array.from({ length: count }, (_, i) => ({ event: "page.viewed", payload: { i } }));
const pub = (tenant: Tenant) => ({ "X-Meshes-Publishable-Key": tenant.publishableKey });

function rateLimitOf(response: Response | undefined) {
  return {
    limit: response?.headers.get("ratelimit-limit"),
    remaining: response?.headers.get("ratelimit-remaining"),
    reset: Number(response?.headers.get("ratelimit-reset")),
  };
}

describe.each(["memory", "postgres"] as const)("rate limiting with the %s store", (store) => {
  let server: TestServer;
  /** A new organization and workspace, so every test starts with a full budget. */
  const freshTenant = () => createTenant(server.db, server.secretBox, `${store}-${randomUUID()}`);

  beforeAll(async () => {
    server = await file.startServer({ rateLimit: limit(store) });
  });

  it("when a workspace spends its budget, then the next request is answered 429 in the envelope with Retry-After and stores nothing", async () => {
    const tenant = await freshTenant();
    const spent = await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(10) });
    expect(spent.response?.status).toBe(201);
    expect(rateLimitOf(spent.response)).toMatchObject({ limit: "10", remaining: "0" });

    const { error, response } = await createEvent({ client: server.client, headers: pub(tenant), body: events(1)[0] as EventInput });
    expect(response?.status).toBe(429);
    expect(error).toMatchObject({ message: "Too Many Requests", error: { name: "TooManyRequests" } });
    expect(error?.error.message).toContain(tenant.workspaceId);
    const retryAfter = response?.headers.get("retry-after") ?? "";
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(windowSeconds);
    expect(rateLimitOf(response)).toEqual({ limit: "10", remaining: "0", reset: Number(retryAfter) });
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(10);
  });

  it("when requests succeed, then each answer reports the events left and the seconds until the window ends", async () => {
    const tenant = await freshTenant();
    const first = await createEvent({ client: server.client, headers: pub(tenant), body: events(1)[0] as EventInput });
    expect(first.response?.status).toBe(201);
    const headers = rateLimitOf(first.response);
    expect(headers).toMatchObject({ limit: "10", remaining: "9" });
    expect(headers.reset).toBeGreaterThanOrEqual(1);
    expect(headers.reset).toBeLessThanOrEqual(windowSeconds);

    const second = await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(3) });
    expect(rateLimitOf(second.response)).toMatchObject({ limit: "10", remaining: "6" });
  });

  it("when a bulk request is larger than what is left, then it is refused whole, takes nothing, and a request that fits still passes", async () => {
    const tenant = await freshTenant();
    await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(4) });
    const refused = await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(7) });
    expect(refused.response?.status).toBe(429);
    expect(rateLimitOf(refused.response)).toMatchObject({ remaining: "6" });

    const fits = await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(6) });
    expect(fits.response?.status).toBe(201);
    expect(rateLimitOf(fits.response)).toMatchObject({ remaining: "0" });
    expect(await storedEvents(server.db, tenant.workspaceId)).toHaveLength(10);
  });

  it("when some items of a bulk request are rejected, then only the accepted ones are counted, and the 207 carries the headers", async () => {
    const tenant = await freshTenant();
    const body = [...events(3), { event: "no.payload" }, { payload: {} }] as EventInput[];
    const { response } = await createEventsBulk({ client: server.client, headers: pub(tenant), body });
    expect(response?.status).toBe(207);
    expect(rateLimitOf(response)).toMatchObject({ limit: "10", remaining: "7" });
  });

  it("when one workspace has spent its budget, then another workspace still has all of its own", async () => {
    const spender = await freshTenant();
    const other = await freshTenant();
    await createEventsBulk({ client: server.client, headers: pub(spender), body: events(10) });
    const refused = await createEvent({ client: server.client, headers: pub(spender), body: events(1)[0] as EventInput });
    expect(refused.response?.status).toBe(429);

    const { response } = await createEventsBulk({ client: server.client, headers: pub(other), body: events(10) });
    expect(response?.status).toBe(201);
    expect(rateLimitOf(response)).toMatchObject({ remaining: "0" });
  });

  it("when a machine token and the publishable key write to one workspace, then they share its budget", async () => {
    const tenant = await freshTenant();
    await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(6) });
    const body = events(5).map((e) => ({ ...e, workspace: tenant.workspaceId }));
    const { response } = await createEventsBulk({ client: server.client, headers: await bearer(tenant.machine), body });
    expect(response?.status).toBe(429);
  });

  it("when a machine token's request names two workspaces and one is over its budget, then it is refused whole and the other workspace is not charged", async () => {
    const tenant = await freshTenant();
    const second = (await createWorkspace(server.db, tenant.organizationId, "Second")).workspace.id;
    const machine = async () => bearer(tenant.machine);
    const to = (workspace: string, count: number) => events(count).map((e) => ({ ...e, workspace }));
    await createEventsBulk({ client: server.client, headers: await machine(), body: to(tenant.workspaceId, 9) });

    const refused = await createEventsBulk({
      client: server.client,
      headers: await machine(),
      body: [...to(second, 3), ...to(tenant.workspaceId, 2)],
    });
    expect(refused.response?.status).toBe(429);
    expect(refused.error?.error.message).toContain(tenant.workspaceId);
    expect(await storedEvents(server.db, second)).toHaveLength(0);

    const { response } = await createEventsBulk({ client: server.client, headers: await machine(), body: to(second, 10) });
    expect(response?.status).toBe(201);
  });

  it("when the window has ended, then the workspace's budget is full again", async () => {
    const tenant = await freshTenant();
    await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(10) });
    const refused = await createEvent({ client: server.client, headers: pub(tenant), body: events(1)[0] as EventInput });
    const retryAfter = Number(refused.response?.headers.get("retry-after"));
    expect(refused.response?.status).toBe(429);

    // Only Date is faked: both stores compute windows from Date.now() in this process.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + retryAfter * 1000 + 1);
    const { response } = await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(10) });
    expect(response?.status).toBe(201);
    expect(rateLimitOf(response)).toMatchObject({ remaining: "0", reset: windowSeconds });
  });
});

describe("rate limiting across instances", () => {
  it("when two instances use the postgres store, then they share one budget per workspace", async () => {
    const a = await file.startServer({ rateLimit: limit("postgres") });
    const b = await file.startServer({ rateLimit: limit("postgres") });
    const tenant = await createTenant(a.db, a.secretBox, "Shared");
    expect((await createEventsBulk({ client: a.client, headers: pub(tenant), body: events(6) })).response?.status).toBe(201);
    const onB = await createEventsBulk({ client: b.client, headers: pub(tenant), body: events(5) });
    expect(onB.response?.status).toBe(429);
    expect(rateLimitOf(onB.response)).toMatchObject({ remaining: "4" });
  });

  it("when two instances use the memory store, then each counts alone (the effective limit is per instance)", async () => {
    const a = await file.startServer({ rateLimit: limit("memory") });
    const b = await file.startServer({ rateLimit: limit("memory") });
    const tenant = await createTenant(a.db, a.secretBox, "Apart");
    expect((await createEventsBulk({ client: a.client, headers: pub(tenant), body: events(10) })).response?.status).toBe(201);
    expect((await createEventsBulk({ client: b.client, headers: pub(tenant), body: events(10) })).response?.status).toBe(201);
  });
});

describe("rate limiting when the postgres store fails", () => {
  it("when the counters table is unusable, then ingestion goes on under this instance's own counter, with a warning", async () => {
    const warnings: string[] = [];
    const log: Logger = { info: () => {}, warn: (_fields, message) => warnings.push(message), error: () => {} };
    const server = await file.startServer({ rateLimit: limit("postgres"), log });
    const tenant = await createTenant(server.db, server.secretBox, "Outage");
    await sql`alter table rate_limits rename to rate_limits_away`.execute(server.db);
    try {
      const first = await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(10) });
      expect(first.response?.status).toBe(201);
      expect(rateLimitOf(first.response)).toMatchObject({ limit: "10", remaining: "0" });
      expect(warnings).toContain("rate-limit store failed; counting this request on this instance alone");

      const over = await createEvent({ client: server.client, headers: pub(tenant), body: events(1)[0] as EventInput });
      expect(over.response?.status).toBe(429);
    } finally {
      await sql`alter table rate_limits_away rename to rate_limits`.execute(server.db);
    }
  });
});

describe("rate limiting off", () => {
  it("when no rate is configured, then ingestion answers carry no RateLimit headers", async () => {
    const server = await file.startServer();
    const tenant = await createTenant(server.db, server.secretBox, "Unlimited");
    const { response } = await createEventsBulk({ client: server.client, headers: pub(tenant), body: events(100) });
    expect(response?.status).toBe(201);
    expect(response?.headers.get("ratelimit-limit")).toBeNull();
    expect(response?.headers.get("ratelimit-remaining")).toBeNull();
  });
});

describe("SWITCHYARD_RATE_LIMIT_*", () => {
  it.each([
    [{}, { eventsPerSecond: 0, burst: 100, store: "memory" }],
    [{ SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND: "20" }, { eventsPerSecond: 20, burst: 100, store: "memory" }],
    [{ SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND: "500" }, { eventsPerSecond: 500, burst: 500, store: "memory" }],
    [
      { SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND: "500", SWITCHYARD_RATE_LIMIT_BURST: "2000", SWITCHYARD_RATE_LIMIT_STORE: "postgres" },
      { eventsPerSecond: 500, burst: 2000, store: "postgres" },
    ],
    [
      { SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND: "5", SWITCHYARD_RATE_LIMIT_BURST: "10", SWITCHYARD_MAX_BATCH_ITEMS: "10" },
      { eventsPerSecond: 5, burst: 10, store: "memory" },
    ],
  ])("when the environment is %j, then the limit is %j", (env, expected) => {
    expect(parseConfig(env).rateLimit).toEqual(expected);
  });

  it.each([
    [
      "a burst smaller than a full bulk request",
      { SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND: "5", SWITCHYARD_RATE_LIMIT_BURST: "50" },
      "BURST",
    ],
    ["a burst smaller than the rate", { SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND: "500", SWITCHYARD_RATE_LIMIT_BURST: "200" }, "BURST"],
    ["a negative rate", { SWITCHYARD_RATE_LIMIT_EVENTS_PER_SECOND: "-1" }, "EVENTS_PER_SECOND"],
    ["an unknown store", { SWITCHYARD_RATE_LIMIT_STORE: "redis" }, "STORE"],
  ])("when it has %s, then parsing fails naming the variable", (_case, env, variable) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(new RegExp(`^SWITCHYARD_RATE_LIMIT_${variable}: `));
  });
});
