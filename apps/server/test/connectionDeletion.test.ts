import { deleteConnection, getRule } from "@switchyard/client";
import { waitFor } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { bearer } from "./support/fixtures.js";
import { useTestServer } from "./support/useTestServer.js";
import { emitEvent, eventDetail, routeToReceiver } from "./support/webhookRoutes.js";

// A forced delete deactivates the connection's rules in its own transaction: with a worker running, nothing
// is routed to the connection afterwards.

const file = useTestServer({ tenant: "Deletion", worker: {} });

describe("a connection deleted with force_delete while a rule routes to it", () => {
  it("when the connection is force-deleted, then its rule is inactive and later events are routed nowhere", async () => {
    const { server, tenant, closers } = file;
    const route = await routeToReceiver(server, tenant, "order.shipped", { closers });
    const before = await emitEvent(server, tenant, { event: "order.shipped" });
    await waitFor(() => eventDetail(server, tenant, before.id), {
      what: "the first event's delivery",
      until: (e) => e.status === "completed",
    });
    expect(route.receiver.requests).toHaveLength(1);

    const headers = await bearer(tenant.machine);
    const deleted = await deleteConnection({
      client: server.client,
      headers,
      path: { id: route.connectionId },
      body: { force_delete: true },
    });
    expect(deleted.data).toEqual({ id: route.connectionId, type: "webhook" });
    expect((await getRule({ client: server.client, headers, path: { id: route.ruleId } })).data?.active).toBe(false);

    const after = await emitEvent(server, tenant, { event: "order.shipped" });
    // No active rule matches it any more: it is complete on acceptance, with no delivery.
    expect(after.status).toBe("completed");
    expect(await eventDetail(server, tenant, after.id)).toMatchObject({ status: "completed", total_rules: 0, rule_events: [] });
    expect(route.receiver.requests).toHaveLength(1);
  });
});
