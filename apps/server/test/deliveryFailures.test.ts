import { cancelEvent, getConnection, updateConnection } from "@switchyard/client";
import type { DeliveryWorkerConfig } from "@switchyard/delivery";
import { type Answer, startReceiver, waitFor } from "@switchyard/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { bearer, type Tenant } from "./support/fixtures.js";
import type { TestServer } from "./support/testServer.js";
import { useTestServer } from "./support/useTestServer.js";
import { attemptsOf, deliveryOf, emitEvent, eventDetail, type RouteOptions, routeToReceiver } from "./support/webhookRoutes.js";

/**
 * For the describe block it is called in: a server on a database of its own, with a delivery worker (these
 * settings over the test defaults) and a tenant, and the helpers its tests use.
 */
function setUp(worker: Partial<DeliveryWorkerConfig>) {
  const file = useTestServer({ tenant: "Failures", worker });
  return {
    get server(): TestServer {
      return file.server;
    },
    get tenant(): Tenant {
      return file.tenant;
    },
    route: (event: string, options: RouteOptions = {}) =>
      routeToReceiver(file.server, file.tenant, event, { ...options, closers: file.closers }),
    emit: (event: string) => emitEvent(file.server, file.tenant, { event }),
    settled: (eventId: string) =>
      waitFor(() => eventDetail(file.server, file.tenant, eventId), {
        what: `event ${eventId} to settle`,
        until: (e) => e.status === "completed" || e.status === "failed",
      }),
  };
}

/** Attempts as [attempt, outcome_code, http_status] rows. */
const summary = (attempts: Awaited<ReturnType<typeof attemptsOf>>) => attempts.map((a) => [a.attempt, a.outcome_code, a.http_status]);

describe("answers and failures (delivery timeout 300 ms, retry schedule compressed 1000 times)", () => {
  const s = setUp({ deliveryTimeoutMs: 300 });

  it("when the receiver answers 429 with Retry-After, then the attempt is rate_limited and the retry waits at least the 60 s floor, compressed", async () => {
    const { receiver, ruleId } = await s.route("throttled", {
      script: [{ status: 429, headers: { "Retry-After": "1" } }, { status: 200 }],
    });
    const event = await s.emit("throttled");
    expect((await s.settled(event.id)).status).toBe("completed");
    const attempts = await attemptsOf(s.server, s.tenant, event.id, ruleId);
    expect(summary(attempts)).toEqual([
      [1, "rate_limited", 429],
      [2, "delivered", 200],
    ]);
    const [first, second] = attempts;
    const scheduledAfterMs = Date.parse(first?.next_attempt_at ?? "") - Date.parse(first?.completed_at ?? "");
    expect(scheduledAfterMs).toBeGreaterThanOrEqual(60);
    expect(first?.response?.headers).toMatchObject({ "retry-after": "1" });
    // The wait was kept, not only recorded.
    expect(Date.parse(second?.started_at ?? "")).toBeGreaterThanOrEqual(Date.parse(first?.next_attempt_at ?? ""));
    expect((receiver.requests[1]?.at ?? 0) - (receiver.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(60);
  });

  it("when the receiver answers 410 Gone, then the delivery fails, the connection is deactivated and later events fail without an attempt, saying why", async () => {
    const { receiver, ruleId, connectionId } = await s.route("gone", { script: [{ status: 410 }, { status: 200 }] });
    const event = await s.emit("gone");
    const failed = await s.settled(event.id);
    expect(failed).toMatchObject({ status: "failed", failed_count: 1 });
    expect(failed.rule_events[0]?.last_error).toMatch(/410 Gone/);
    expect(summary(await attemptsOf(s.server, s.tenant, event.id, ruleId))).toEqual([[1, "rejected_client_error", 410]]);

    const headers = await bearer(s.tenant.machine);
    const connection = await getConnection({ client: s.server.client, headers, path: { id: connectionId } });
    // Meshes has no inactive_reason for a destination that is gone: our own account says it.
    expect(connection.data).toMatchObject({ active: false, inactive_detail: "the destination answered 410 Gone" });
    expect(connection.data).not.toHaveProperty("inactive_reason");

    const later = await s.emit("gone");
    // Accepted as pending; routing then fails its delivery without an attempt.
    expect(later.status).toBe("pending");
    expect(await s.settled(later.id)).toMatchObject({ status: "failed", failed_count: 1 });
    const laterDelivery = await deliveryOf(s.server, s.tenant, later.id, ruleId);
    expect(laterDelivery).toMatchObject({
      status: "failed",
      attempt_count: 0,
      last_error: "connection inactive: the destination answered 410 Gone",
    });
    expect(receiver.requests).toHaveLength(1);

    // Reactivated, the connection delivers again.
    const reactivated = await updateConnection({ client: s.server.client, headers, path: { id: connectionId }, body: { active: true } });
    expect(reactivated.data).toMatchObject({ active: true });
    expect(reactivated.data).not.toHaveProperty("inactive_detail");
    const after = await s.emit("gone");
    expect((await s.settled(after.id)).status).toBe("completed");
    expect(receiver.requests).toHaveLength(2);
  });

  it("when the receiver never answers, then the attempt times out and is retried no sooner than the 60 s floor, compressed", async () => {
    const { receiver, ruleId } = await s.route("silent", { script: ["hang", { status: 200 }] });
    const event = await s.emit("silent");
    expect((await s.settled(event.id)).status).toBe("completed");
    const attempts = await attemptsOf(s.server, s.tenant, event.id, ruleId);
    expect(summary(attempts)).toEqual([
      [1, "timeout", null],
      [2, "delivered", 200],
    ]);
    const [first] = attempts;
    expect(first).toMatchObject({ error: "no response within 300 ms", response: null });
    expect(first?.duration_ms).toBeGreaterThanOrEqual(300);
    expect(Date.parse(first?.next_attempt_at ?? "") - Date.parse(first?.completed_at ?? "")).toBeGreaterThanOrEqual(60);
    expect(receiver.requests).toHaveLength(2);
  });

  it.each<[string, string, Answer]>([
    ["401", "auth_failed", { status: 401 }],
    ["403", "auth_failed", { status: 403 }],
    ["400", "rejected_client_error", { status: 400 }],
    ["a redirect", "rejected_client_error", { status: 302, headers: { Location: "http://127.0.0.1:1/elsewhere" } }],
  ])("when the receiver answers %s, then the delivery fails after one attempt as %s", async (what, outcome, answer) => {
    const name = `final.${what.replaceAll(" ", "-")}`;
    const { receiver, ruleId } = await s.route(name, { script: [answer, { status: 200 }] });
    const event = await s.emit(name);
    const failed = await s.settled(event.id);
    expect(failed).toMatchObject({ status: "failed", failed_count: 1 });
    expect(failed.rule_events[0]).toMatchObject({ status: "failed", attempt_count: 1 });
    expect(failed.rule_events[0]).not.toHaveProperty("next_attempt_at");
    const attempts = await attemptsOf(s.server, s.tenant, event.id, ruleId);
    expect(summary(attempts)).toEqual([[1, outcome, typeof answer === "string" ? null : answer.status]]);
    expect(attempts[0]?.next_attempt_at).toBeNull();
    expect(receiver.requests).toHaveLength(1);
  });

  it.each<[string, string, Answer]>([
    ["500", "rejected_server_error", { status: 500 }],
    ["408", "timeout", { status: 408 }],
    ["425", "rate_limited", { status: 425 }],
    ["a dropped connection", "network_error", "reset"],
  ])("when the receiver answers %s once, then the attempt is %s and the retry delivers", async (what, outcome, answer) => {
    const name = `retried.${what.replaceAll(" ", "-")}`;
    const { ruleId } = await s.route(name, { script: [answer, { status: 200 }] });
    const event = await s.emit(name);
    expect((await s.settled(event.id)).status).toBe("completed");
    expect((await attemptsOf(s.server, s.tenant, event.id, ruleId)).map((a) => a.outcome_code)).toEqual([outcome, "delivered"]);
  });
  it("when an attempt's result arrives after its lease went to a newer attempt, then the late result leaves the newer attempt's delivery alone", async () => {
    const { receiver, ruleId } = await s.route("overtaken", { script: ["hang", { status: 200 }] });
    const event = await s.emit("overtaken");
    await waitFor(() => receiver.requests.length, { what: "the first attempt to be in flight", until: (n) => n === 1 });
    const { id } = await deliveryOf(s.server, s.tenant, event.id, ruleId);
    // As if the first attempt's lease had run out and another worker had claimed the delivery as attempt 2.
    await sql`update rule_events set attempt_count = 2, lease_expires_at = now() + interval '1 minute' where id = ${id}`.execute(
      s.server.db,
    );

    const [late] = await waitFor(() => attemptsOf(s.server, s.tenant, event.id, ruleId), {
      what: "the first attempt's result",
      until: (a) => a.length === 1,
    });
    expect(late).toMatchObject({ attempt: 1, outcome_code: "timeout" });
    // Recorded in the same transaction as any status change: what the delivery shows now is final for attempt 1.
    expect(await deliveryOf(s.server, s.tenant, event.id, ruleId)).toMatchObject({
      status: "processing",
      attempt_count: 2,
    });
    const jobs = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs where key = ${`deliver:${id}`}`.execute(
      s.server.db,
    );
    expect(jobs.rows[0]?.n).toBe(0);
    await cancelEvent({ client: s.server.client, headers: await bearer(s.tenant.machine), path: { id: event.id } });
  });
});

describe("a connection that keeps failing (deactivated after 200 ms of failures)", () => {
  const s = setUp({ deactivateAfterMs: 200 });

  it("when every attempt fails for longer than the period, then the connection is deactivated and its deliveries fail saying why", async () => {
    const { receiver, ruleId, connectionId } = await s.route("doomed", { script: [{ status: 500 }] });
    const event = await s.emit("doomed");
    const failed = await s.settled(event.id);
    expect(failed.status).toBe("failed");
    expect(failed.rule_events[0]?.last_error).toMatch(/^connection deactivated: every attempt failed since /);
    const attempts = await attemptsOf(s.server, s.tenant, event.id, ruleId);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.every((a) => a.outcome_code === "rejected_server_error")).toBe(true);
    expect(receiver.requests).toHaveLength(attempts.length);

    const connection = await getConnection({
      client: s.server.client,
      headers: await bearer(s.tenant.machine),
      path: { id: connectionId },
    });
    expect(connection.data?.active).toBe(false);
    expect(connection.data?.inactive_detail).toMatch(/^every attempt failed since \d{4}-\d\d-\d\dT/);
    // Server errors are not a reason Meshes has a word for.
    expect(connection.data).not.toHaveProperty("inactive_reason");

    const later = await s.emit("doomed");
    expect((await s.settled(later.id)).status).toBe("failed");
    expect((await deliveryOf(s.server, s.tenant, later.id, ruleId)).last_error).toBe(
      `connection inactive: ${connection.data?.inactive_detail}`,
    );
  });

  it("when the receiver keeps refusing the credentials (401) for longer than the period, then the connection is deactivated as authentication_invalid", async () => {
    const { connectionId } = await s.route("refused", { script: [{ status: 401 }] });
    const headers = await bearer(s.tenant.machine);
    // Each 401 is final for its delivery; the streak runs across deliveries, so events keep coming until it ends.
    const connection = await waitFor(
      async () => {
        await s.settled((await s.emit("refused")).id);
        return getConnection({ client: s.server.client, headers, path: { id: connectionId } });
      },
      { what: "the connection to be deactivated", until: (answer) => answer.data?.active === false },
    );
    expect(connection.data).toMatchObject({
      active: false,
      inactive_reason: "authentication_invalid",
      inactive_detail: expect.stringMatching(/^every attempt failed since /),
    });
  });

  it("when attempts fail but a later one succeeds, then the streak ends and the connection stays active", async () => {
    const { connectionId } = await s.route("recovers", { script: [{ status: 500 }, { status: 200 }] });
    const event = await s.emit("recovers");
    expect((await s.settled(event.id)).status).toBe("completed");
    const connection = await getConnection({
      client: s.server.client,
      headers: await bearer(s.tenant.machine),
      path: { id: connectionId },
    });
    expect(connection.data).toMatchObject({ active: true });
    expect(connection.data).not.toHaveProperty("inactive_reason");
  });
});

describe("the address policy at connect time (the API allows loopback, the worker does not)", () => {
  const s = setUp({ destinationAllowList: "" });

  it.each([
    ["an IP literal", (url: string) => url, /refused to connect to 127\.0\.0\.1: in the loopback range/],
    [
      "a name resolving to loopback",
      (url: string) => url.replace("127.0.0.1", "localhost"),
      /refused to connect to (127\.0\.0\.1|::1) \(resolved from localhost\)/,
    ],
  ])(
    "when the destination is %s, then the attempt is refused before connecting, final, and the receiver sees nothing",
    async (what, toUrl, message) => {
      const receiver = await startReceiver([{ status: 200 }]);
      try {
        const name = `internal.${what.replaceAll(" ", "-")}`;
        const { ruleId } = await s.route(name, { receiver, metadata: { url: toUrl(receiver.url) } });
        const event = await s.emit(name);
        const failed = await s.settled(event.id);
        expect(failed.rule_events[0]).toMatchObject({ status: "failed", attempt_count: 1 });
        const attempts = await attemptsOf(s.server, s.tenant, event.id, ruleId);
        expect(attempts).toHaveLength(1);
        expect(attempts[0]).toMatchObject({ outcome_code: "network_error", http_status: null, next_attempt_at: null, response: null });
        expect(attempts[0]?.error).toMatch(message);
        expect(receiver.requests).toHaveLength(0);
      } finally {
        await receiver.close();
      }
    },
  );
});
