import { type MappingField, updateConnectionDefaultMapping } from "@switchyard/client";
import { waitFor } from "@switchyard/testing";
import { describe, expect, it } from "vitest";
import { bearer, type Tenant } from "../support/fixtures.js";
import type { TestServer } from "../support/testServer.js";
import { useTestServer } from "../support/useTestServer.js";
import { attemptsOf, emitEvent, eventDetail, routeToReceiver } from "../support/webhookRoutes.js";

let server: TestServer;
let tenant: Tenant;

const { closers } = useTestServer({ tenant: "Mapped delivery", worker: {} }, (file) => {
  ({ server, tenant } = file);
});

async function storeMapping(connectionId: string, fields: MappingField[]): Promise<void> {
  const { response, error } = await updateConnectionDefaultMapping({
    client: server.client,
    headers: await bearer(tenant.machine),
    path: { id: connectionId },
    body: { schema: { schema_version: 1, fields } },
  });
  if (response?.status !== 200) throw new Error(`mapping refused: ${response?.status} ${JSON.stringify(error)}`);
}

const settled = (id: string) =>
  waitFor(() => eventDetail(server, tenant, id), {
    what: `event ${id} to settle`,
    until: (e) => e.status === "completed" || e.status === "failed",
  });

describe("the connection's mapping at delivery", () => {
  it("when a fail_action field cannot be produced, then the attempt is a final mapping_error naming the field, and nothing is sent", async () => {
    const { receiver, connectionId, ruleId } = await routeToReceiver(server, tenant, "mapped.fails", { closers });
    await storeMapping(connectionId, [
      { dest: "seats", source: { type: "path", value: "plan.seats" }, transforms: [{ type: "to_number" }], on_error: "fail_action" },
    ]);
    const event = await emitEvent(server, tenant, { event: "mapped.fails", payload: { plan: { seats: "a dozen" } } });
    const done = await settled(event.id);
    expect(done.status).toBe("failed");
    const attempts = await attemptsOf(server, tenant, event.id, ruleId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ outcome_code: "mapping_error", http_status: null, next_attempt_at: null, request: null });
    expect(attempts[0]?.error).toMatch(/^mapping failed at field "seats": /);
    // The payload's value is not repeated in the record.
    expect(attempts[0]?.error).not.toContain("a dozen");
    expect(receiver.requests).toHaveLength(0);
  });

  it("when a warn_action field cannot be produced, then the delivery goes on and the attempt names the field left out", async () => {
    const { receiver, connectionId, ruleId } = await routeToReceiver(server, tenant, "mapped.warns", { closers });
    await storeMapping(connectionId, [
      { dest: "seats", source: { type: "path", value: "plan.seats" }, transforms: [{ type: "to_number" }], on_error: "warn_action" },
      { dest: "email", source: { type: "path", value: "email" } },
    ]);
    const event = await emitEvent(server, tenant, {
      event: "mapped.warns",
      payload: { email: "ada@example.com", plan: { seats: "many" } },
    });
    expect((await settled(event.id)).status).toBe("completed");
    const [attempt] = await attemptsOf(server, tenant, event.id, ruleId);
    expect(attempt).toMatchObject({ outcome_code: "delivered", http_status: 200 });
    expect(attempt?.error).toMatch(/^mapping left out "seats" \(/);
    expect(receiver.requests).toHaveLength(1);
  });

  it("when the mapping is replaced, then the next delivery applies the new version", async () => {
    const { connectionId, ruleId } = await routeToReceiver(server, tenant, "mapped.versions", { closers });
    await storeMapping(connectionId, [
      { dest: "seats", source: { type: "path", value: "seats" }, transforms: [{ type: "to_number" }], on_error: "fail_action" },
    ]);
    const first = await emitEvent(server, tenant, { event: "mapped.versions", payload: { seats: "x" } });
    expect((await settled(first.id)).status).toBe("failed");
    await storeMapping(connectionId, [
      { dest: "seats", source: { type: "path", value: "seats" }, transforms: [{ type: "to_number" }], on_error: "skip_field" },
    ]);
    const second = await emitEvent(server, tenant, { event: "mapped.versions", payload: { seats: "x" } });
    expect((await settled(second.id)).status).toBe("completed");
    const [attempt] = await attemptsOf(server, tenant, second.id, ruleId);
    // skip_field leaves no trace.
    expect(attempt).toMatchObject({ outcome_code: "delivered", error: null });
  });
});
